#!/usr/bin/env node
// Generates the app icons in resources/ from one SVG drawn here: icon.png (512×512, Linux + electron-builder's
// source), icon.ico (Windows: PNG-compressed entries 16–256 px) and icon.icns (macOS: PNG entries 128–1024 px).
// ICO and ICNS are simple containers of PNGs, written directly so no extra tool is needed.
//   node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const out = fileURLToPath(new URL('../resources/', import.meta.url));

// A labeling frame (box with corner handles) around a stacked-layers mark: "annotate, then tune".
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#3b6df2"/><stop offset="1" stop-color="#7b3fe4"/></linearGradient></defs>
  <rect x="16" y="16" width="480" height="480" rx="104" fill="url(#g)"/>
  <rect x="112" y="112" width="288" height="288" fill="none" stroke="#fff" stroke-width="22" stroke-dasharray="44 26" rx="10"/>
  <g fill="#fff"><rect x="92" y="92" width="44" height="44" rx="8"/><rect x="376" y="92" width="44" height="44" rx="8"/><rect x="92" y="376" width="44" height="44" rx="8"/><rect x="376" y="376" width="44" height="44" rx="8"/></g>
  <g fill="#ffd166"><path d="M256 176 338 216 256 256 174 216Z"/><path d="M174 252 256 292 338 252 338 274 256 314 174 274Z" opacity=".85"/><path d="M174 302 256 342 338 302 338 324 256 364 174 324Z" opacity=".7"/></g>
</svg>`;

const png = (size) => sharp(Buffer.from(ICON_SVG), { density: Math.max(72, (72 * size) / 512) }).resize(size, size).png({ compressionLevel: 9 }).toBuffer();

export function icoFile(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, data }, i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, e); // 0 means 256
    header.writeUInt8(size >= 256 ? 0 : size, e + 1);
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(data.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.data)]);
}

export function icnsFile(entries) {
  const parts = entries.map(({ type, data }) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'ascii');
    h.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([h, data]);
  });
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'ascii');
  h.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([h, body]);
}

async function main() {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'icon.svg'), ICON_SVG);
  writeFileSync(join(out, 'icon.png'), await png(512));
  const icoSizes = [16, 24, 32, 48, 64, 128, 256];
  writeFileSync(join(out, 'icon.ico'), icoFile(await Promise.all(icoSizes.map(async (size) => ({ size, data: await png(size) })))));
  // ic07–ic10: 128, 256, 512, 1024 px; ic11–ic14: the @2x variants of 16, 32, 128, 256.
  const icns = [['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024], ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512]];
  writeFileSync(join(out, 'icon.icns'), icnsFile(await Promise.all(icns.map(async ([type, size]) => ({ type, data: await png(size) })))));
  console.log(`wrote icon.svg, icon.png, icon.ico, icon.icns to ${out}`);
}

await main();
