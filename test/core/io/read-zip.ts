// A minimal ZIP reader for tests (central directory → entries, stored or deflated), written from the spec
// independently of the writer so the two check each other.
import { readFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

export function readZip(file: string): Map<string, Buffer> {
  const buf = readFileSync(file);
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory record');
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central header at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const off = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    if (buf.readUInt32LE(off) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    if (buf.readUInt32LE(off + 14) !== crc || buf.readUInt32LE(off + 18) !== csize) throw new Error(`local header of ${name} disagrees with the central directory`);
    const start = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
    const raw = buf.subarray(start, start + csize);
    const data = method === 8 ? inflateRawSync(raw) : method === 0 ? Buffer.from(raw) : null;
    if (!data) throw new Error(`${name}: method ${method}`);
    if (data.length !== usize || crc32(data) >>> 0 !== crc) throw new Error(`${name}: size or CRC mismatch`);
    out.set(name, data);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}
