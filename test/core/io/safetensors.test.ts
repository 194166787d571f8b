import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  f32Tensor, MAX_HEADER_BYTES, parseSafetensors, readSafetensors, readSafetensorsHeader, serializeSafetensors, toFloat32, writeSafetensors,
} from '../../../src-main/core/io/safetensors';
import { fixturePath } from '../model/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'st-'));

/** Hand-built file: 8-byte length, header JSON, data. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors reader', () => {
  it('reads the fixture and round-trips it with identical names, shapes, dtypes and tensor bytes', async () => {
    const file = await readSafetensors(fixturePath('hst_tiny', 'weights.safetensors'));
    expect(file.tensors.size).toBe(419);
    const again = parseSafetensors(serializeSafetensors(file.tensors, file.metadata));
    expect([...again.tensors.keys()].sort()).toEqual([...file.tensors.keys()].sort());
    for (const [n, t] of file.tensors) {
      const u = again.tensors.get(n)!;
      expect([u.dtype, u.shape], n).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(u.data).equals(Buffer.from(t.data)), n).toBe(true);
    }
    expect(again.metadata).toEqual(file.metadata);
  });

  it('writes like the reference implementation (sorted, 8-byte aligned header): the fixture is reproduced byte for byte', () => {
    const bytes = readFileSync(fixturePath('vit_tiny', 'weights_timm.safetensors'));
    const file = parseSafetensors(new Uint8Array(bytes));
    expect(Buffer.from(serializeSafetensors(file.tensors, file.metadata)).equals(bytes)).toBe(true);
  });

  it('refuses a header that claims 10 GB without allocating it', async () => {
    const p = join(dir, 'huge.safetensors');
    writeFileSync(p, raw('{}', new Uint8Array(0), 10n * 1024n ** 3n));
    const before = process.memoryUsage().arrayBuffers;
    await expect(readSafetensors(p)).rejects.toThrow(/header claims 10737418240 bytes, more than the/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 1024 * 1024);
    expect(() => parseSafetensors(raw('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n))).toThrow(/limit/);
  });

  it('names the tensor and the problem for malformed entries', () => {
    const d8 = new Uint8Array(8);
    const cases: [unknown, Uint8Array, RegExp][] = [
      [{ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d8, /'b'.*overlaps/],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d8, /gap of 4 bytes before tensor 'a'/],
      [{ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d8, /tensor 'a': 8 bytes for shape \[3\] F32, expected 12/],
      [{ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, d8, /tensor 'a': unsupported dtype "Q7"/],
      [{ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, d8, /tensor 'a': shape/],
      [{ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, d8, /tensor 'a'.*past the end.*truncated/],
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, d8, /4 trailing bytes/],
      [{ a: { dtype: 'F32', shape: [2] } }, d8, /tensor 'a': data_offsets/],
      ['{"a": ', d8, /not valid JSON/],
      ['[1,2]', new Uint8Array(0), /does not start with|not a JSON object/],
      [{ __metadata__: { k: 3 } }, new Uint8Array(0), /__metadata__\.k is not a string/],
    ];
    for (const [h, data, re] of cases) expect(() => parseSafetensors(raw(h, data)), String(re)).toThrow(re);
  });

  it('reports a truncated file', async () => {
    const good = serializeSafetensors({ w: f32Tensor(new Float32Array([1, 2, 3, 4]), [2, 2]) });
    const p = join(dir, 'trunc.safetensors');
    writeFileSync(p, good.subarray(0, good.length - 3));
    await expect(readSafetensors(p)).rejects.toThrow(/tensor 'w'.*past the end.*truncated/);
    writeFileSync(p, good.subarray(0, 5));
    await expect(readSafetensors(p)).rejects.toThrow(/too short/);
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/cannot open/);
  });

  it('converts F16, BF16, F64 and I64 to float32', () => {
    const f16 = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x00, 0x55, 0x35]); // 1, -2, 0, 0.333…
    expect(Array.from(toFloat32({ dtype: 'F16', shape: [4], data: f16 }))).toEqual([1, -2, 0, 0.333251953125]);
    const bf = new Uint8Array([0x80, 0x3f, 0x40, 0xc0]); // 1, -3
    expect(Array.from(toFloat32({ dtype: 'BF16', shape: [2], data: bf }))).toEqual([1, -3]);
    const f64 = new Uint8Array(new Float64Array([0.5, -7]).buffer);
    expect(Array.from(toFloat32({ dtype: 'F64', shape: [2], data: f64 }))).toEqual([0.5, -7]);
    const i64 = new Uint8Array(new BigInt64Array([5n, -1n]).buffer);
    expect(Array.from(toFloat32({ dtype: 'I64', shape: [2], data: i64 }))).toEqual([5, -1]);
  });

  it('writes atomically and reads headers without the data', async () => {
    const p = join(dir, 'w.safetensors');
    await writeSafetensors(p, { a: f32Tensor(new Float32Array([1, 2]), [2]), n: { dtype: 'I64', shape: [1], data: new Uint8Array(8) } }, { k: 'v' });
    const h = await readSafetensorsHeader(p);
    expect(h.metadata).toEqual({ k: 'v' });
    expect(h.tensors.get('a')).toEqual({ dtype: 'F32', shape: [2] });
    const f = await readSafetensors(p);
    expect(Array.from(toFloat32(f.tensors.get('a')!))).toEqual([1, 2]);
  });
});
