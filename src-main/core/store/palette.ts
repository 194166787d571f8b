// Default class colours: distinct on both light and dark canvases, assigned in order.
export const PALETTE = [
  '#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45',
  '#fabed4', '#469990', '#dcbeff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000',
];
export const colorFor = (i: number) => PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
export const isHexColor = (c: string | undefined): c is string => !!c && /^#[0-9a-fA-F]{6}$/.test(c);
