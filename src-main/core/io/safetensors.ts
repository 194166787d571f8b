// Strict safetensors reader/writer (https://github.com/huggingface/safetensors format):
//   [u64 little-endian header length N][N bytes JSON header][data bytes]
// The header maps tensor name → {dtype, shape, data_offsets:[begin,end]} (offsets relative to the data
// section) plus an optional "__metadata__" string map. We validate everything before touching the data, so a
// malformed or hostile file is a sentence naming the tensor and the problem, never a crash or a huge allocation.
import { open, rename, writeFile, unlink } from 'node:fs/promises';

export type StDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<StDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** Header bound: real checkpoints have headers of a few hundred KB; 100 MB leaves room and stops a hostile length. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface StTensor {
  dtype: StDtype;
  shape: number[];
  /** raw little-endian bytes, exactly product(shape)·sizeof(dtype) long */
  data: Uint8Array;
}

export interface StFile {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string, readonly tensor?: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface HeaderEntry { name: string; dtype: StDtype; shape: number[]; begin: number; end: number }

/** Validates a parsed JSON header against a data section of `dataLen` bytes; returns entries sorted by offset. */
function validateHeader(header: unknown, dataLen: number, source: string): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError(`${source}: the header is not a JSON object`);
  }
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(`${source}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${source}: __metadata__.${k} is not a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const where = `${source}: tensor '${name}'`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(`${where}: entry is not an object`, name);
    const e = raw as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw new SafetensorsError(`${where}: unsupported dtype ${JSON.stringify(dtype)}`, name);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${where}: data_offsets ${JSON.stringify(off)} is not a pair of non-negative integers`, name);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) throw new SafetensorsError(`${where}: data_offsets end ${end} is before begin ${begin}`, name);
    if (end > dataLen) throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes; file truncated?)`, name);
    const want = numel(shape as number[]) * DTYPE_BYTES[dtype as StDtype];
    if (end - begin !== want) {
      throw new SafetensorsError(`${where}: ${end - begin} bytes for shape [${(shape as number[]).join(', ')}] ${dtype}, expected ${want}`, name);
    }
    entries.push({ name, dtype: dtype as StDtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) throw new SafetensorsError(`${source}: tensor '${e.name}' overlaps the previous tensor (begins at ${e.begin}, previous ends at ${cursor})`, e.name);
    if (e.begin > cursor) throw new SafetensorsError(`${source}: gap of ${e.begin - cursor} bytes before tensor '${e.name}' (data must be contiguous)`, e.name);
    cursor = e.end;
  }
  if (cursor !== dataLen) throw new SafetensorsError(`${source}: ${dataLen - cursor} trailing bytes after the last tensor are not covered by the header`);
  return { entries, metadata };
}

function parseHeaderJson(bytes: Uint8Array, source: string): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!text.trimStart().startsWith('{')) throw new SafetensorsError(`${source}: the header does not start with '{' (not a safetensors file?)`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`${source}: the header is not valid JSON (${(err as Error).message})`);
  }
}

function readHeaderLength(first8: Uint8Array, total: number, source: string): number {
  if (total < 8) throw new SafetensorsError(`${source}: only ${total} bytes, too short for a safetensors file`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${source}: header claims ${n} bytes, more than the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  const len = Number(n);
  if (8 + len > total) throw new SafetensorsError(`${source}: header claims ${len} bytes but the file has only ${total - 8} after the length (truncated?)`);
  if (len < 2) throw new SafetensorsError(`${source}: header of ${len} bytes is too short`);
  return len;
}

/** Parses safetensors bytes held in memory. Tensor data are views into `buf` (no copy). */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors data'): StFile {
  const n = readHeaderLength(buf.subarray(0, 8), buf.byteLength, source);
  const header = parseHeaderJson(buf.subarray(8, 8 + n), source);
  const data = buf.subarray(8 + n);
  const { entries, metadata } = validateHeader(header, data.byteLength, source);
  const tensors = new Map<string, StTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

/** Reads and validates the header only (first 8 bytes, then the header): cheap, never loads tensor data. */
export async function readSafetensorsHeader(path: string): Promise<{ tensors: Map<string, { dtype: StDtype; shape: number[] }>; metadata: Record<string, string>; fileSize: number }> {
  const fh = await open(path, 'r').catch((err) => {
    throw new SafetensorsError(`${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  });
  try {
    const { size } = await fh.stat();
    const first = new Uint8Array(8);
    await fh.read(first, 0, Math.min(8, size), 0);
    const n = readHeaderLength(first, size, path);
    const hb = new Uint8Array(n);
    await fh.read(hb, 0, n, 8);
    const { entries, metadata } = validateHeader(parseHeaderJson(hb, path), size - 8 - n, path);
    return { tensors: new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata, fileSize: size };
  } finally {
    await fh.close();
  }
}

/** Reads a whole safetensors file; the header is checked against the file size before the data are read. */
export async function readSafetensors(path: string): Promise<StFile> {
  await readSafetensorsHeader(path); // bounds the allocation below by a validated file
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return parseSafetensors(buf.subarray(0, off), path);
  } finally {
    await fh.close();
  }
}

/** The reference serializer orders tensors by its Dtype enum, descending, then by name. */
const DTYPE_RANK: Record<StDtype, number> = { BOOL: 0, U8: 1, I8: 2, I16: 5, U16: 6, F16: 7, BF16: 8, I32: 9, U32: 10, F32: 11, F64: 12, I64: 13, U64: 14 };
const ALIGN_ORDER = (d: StDtype) => -DTYPE_RANK[d];

/**
 * Serialises tensors like the reference implementation: tensors ordered by dtype (the reference's enum order,
 * which puts every 8-byte type before 4-byte ones and so on) then name, header padded with spaces to a multiple of 8 bytes so every tensor stays aligned.
 */
export function serializeSafetensors(tensors: Map<string, StTensor> | Record<string, StTensor>, metadata?: Record<string, string>): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(
    ([an, a], [bn, b]) => ALIGN_ORDER(a.dtype) - ALIGN_ORDER(b.dtype) || (an < bn ? -1 : an > bn ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of list) {
    if (!(t.dtype in DTYPE_BYTES)) throw new SafetensorsError(`tensor '${name}': unsupported dtype ${t.dtype}`, name);
    const want = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== want) throw new SafetensorsError(`tensor '${name}': ${t.data.byteLength} bytes for shape [${t.shape.join(', ')}] ${t.dtype}, expected ${want}`, name);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + want] };
    off += want;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.byteLength % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.byteLength + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.byteLength + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let p = 8 + json.byteLength;
  for (const [, t] of list) {
    out.set(t.data, p);
    p += t.data.byteLength;
  }
  return out;
}

/** Writes atomically (temp file + rename) so an interrupted save never leaves a half checkpoint behind. */
export async function writeSafetensors(path: string, tensors: Map<string, StTensor> | Record<string, StTensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Converts any numeric tensor to float32 (F16/BF16 widened exactly, integers converted). */
export function toFloat32(t: StTensor, name = 'tensor'): Float32Array {
  const n = numel(t.shape);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      // copy: the source may be unaligned inside the file buffer
      new Uint8Array(out.buffer).set(t.data);
      return out;
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true); return out;
    case 'F16': for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true)); return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true)); return out;
    case 'U64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(i * 8, true)); return out;
    case 'I32': for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true); return out;
    case 'U32': for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true); return out;
    case 'I16': for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true); return out;
    case 'U16': for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true); return out;
    case 'I8': for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); return out;
    case 'U8': case 'BOOL': for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); return out;
    default: throw new SafetensorsError(`tensor '${name}': cannot convert dtype ${String(t.dtype)} to float32`, name);
  }
}

/** Wraps float32 values as an F32 safetensors entry (bytes are copied). */
export function f32Tensor(values: Float32Array, shape: number[]): StTensor {
  if (values.length !== numel(shape)) throw new SafetensorsError(`f32Tensor: ${values.length} values for shape [${shape.join(', ')}]`);
  const data = new Uint8Array(values.byteLength);
  data.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return { dtype: 'F32', shape: [...shape], data };
}
