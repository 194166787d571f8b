// A minimal protobuf writer for the ONNX messages we emit (ModelProto, GraphProto, NodeProto, TensorProto,
// AttributeProto, ValueInfoProto). Field numbers follow onnx/onnx.proto (proto2): repeated scalars are written
// unpacked, tensor payloads as raw_data (little-endian).

class Writer {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1024);
  private pos = 0;
  length = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = new Uint8Array(Math.max(1024, n));
    this.pos = 0;
  }

  byte(b: number): void {
    this.ensure(1);
    this.cur[this.pos++] = b;
    this.length++;
  }

  /** unsigned or non-negative varint; negative int64 are written as 10-byte two's complement */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  bytes(b: Uint8Array): void {
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.chunks.push(b);
    this.length += b.length;
    this.cur = new Uint8Array(1024);
    this.pos = 0;
  }

  finish(): Uint8Array {
    this.chunks.push(this.cur.subarray(0, this.pos));
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A message under construction: fields appended in order. */
export class Msg {
  private w = new Writer();

  int(field: number, v: number | bigint): this {
    this.w.varint((field << 3) | 0);
    this.w.varint(v);
    return this;
  }

  ints(field: number, vs: readonly (number | bigint)[]): this {
    for (const v of vs) this.int(field, v);
    return this;
  }

  float(field: number, v: number): this {
    this.w.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.w.bytes(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.w.varint((field << 3) | 2);
    this.w.varint(b.length);
    this.w.bytes(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

export const DT = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10 } as const;

/** number = INT (floats are `{ float: x }`), number[] = INTS */
export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export function tensorProto(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): Msg {
  return new Msg().ints(1, dims).int(2, dataType).str(8, name).bytes(9, raw);
}

export function attribute(name: string, v: AttrValue): Msg {
  const m = new Msg().str(1, name);
  if (typeof v === 'string') return m.str(4, v).int(20, 3);
  if (typeof v === 'number') return m.int(3, v).int(20, 2); // floats must be given as { float }
  if (Array.isArray(v)) return m.ints(8, v).int(20, 7);
  if ('float' in v) return m.float(2, v.float).int(20, 1);
  for (const f of v.floats) m.float(7, f);
  return m.int(20, 6);
}

/** `domain` names an operator set other than the standard one (e.g. onnxruntime's 'com.microsoft'). */
export function nodeProto(op: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: Record<string, AttrValue> = {}, domain?: string): Msg {
  const m = new Msg();
  for (const i of inputs) m.str(1, i);
  for (const o of outputs) m.str(2, o);
  m.str(3, name).str(4, op);
  for (const [k, v] of Object.entries(attrs)) m.msg(5, attribute(k, v));
  if (domain) m.str(7, domain);
  return m;
}

/** ValueInfoProto for a float tensor; a string dim is symbolic (dim_param). */
export function valueInfo(name: string, dims: readonly (number | string)[], elemType: number = DT.FLOAT): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === 'string' ? new Msg().str(2, d) : new Msg().int(1, d));
  const tensor = new Msg().int(1, elemType).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tensor));
}
