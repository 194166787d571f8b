// Gallery names like "IMG_20240611_153012_0042.jpg" differ at the end: cutting the end ("IMG_2024061…") leaves
// every tile with the same label. Cut the middle instead, keeping the head and the distinguishing tail.
export function middleEllipsis(name: string, max: number): string {
  const chars = [...name]; // code points, so an emoji or accented letter is never split
  if (chars.length <= max) return name;
  const keep = Math.max(2, max - 1);
  const tail = Math.ceil(keep * 0.6); // the tail (number + extension) tells files apart: give it more room
  const head = keep - tail;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}
