// An ONNX graph under construction (opset 17) with helpers for the layers the HST and its heads use. Tensor
// names are generated; weights become initializers. Layouts mirror the tfjs code: tokens [B, N, C] and maps
// NHWC; convolutions transpose to NCHW around the Conv op (ONNX Conv is NCHW only).
import { attribute, DT, Msg, nodeProto, tensorProto, valueInfo, type AttrValue } from './proto';

export const OPSET = 17;
export const IR_VERSION = 8;
const CONTRIB_DOMAIN = 'com.microsoft';

export class OnnxGraph {
  private nodes: Msg[] = [];
  private inits: Msg[] = [];
  private inputs: Msg[] = [];
  private outputs: Msg[] = [];
  private n = 0;
  private consts = new Map<string, string>();
  private usesContrib = false;
  initBytes = 0;

  /** A fresh tensor name. */
  name(hint: string): string {
    return `${hint.replace(/[^A-Za-z0-9_.]/g, '_')}_${++this.n}`;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(tensor: string, name: string, dims: (number | string)[], elemType: number = DT.FLOAT): void {
    this.op('Identity', [tensor], {}, name);
    this.outputs.push(valueInfo(name, dims, elemType));
  }

  /** float32 initializer */
  weight(name: string, values: Float32Array, dims: number[]): string {
    const n = this.name(name);
    this.inits.push(tensorProto(n, dims, DT.FLOAT, new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength))));
    this.initBytes += values.byteLength;
    return n;
  }

  /** int64 constant (shapes, axes, sizes); deduplicated */
  i64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    const had = this.consts.get(key);
    if (had) return had;
    const b = new BigInt64Array(values.map((v) => BigInt(v)));
    const n = this.name('c');
    this.inits.push(tensorProto(n, [values.length], DT.INT64, new Uint8Array(b.buffer)));
    this.consts.set(key, n);
    return n;
  }

  /** float scalar constant, deduplicated */
  f32(v: number): string {
    const key = `f32:${v}`;
    const had = this.consts.get(key);
    if (had) return had;
    const n = this.name('s');
    this.inits.push(tensorProto(n, [], DT.FLOAT, new Uint8Array(new Float32Array([v]).buffer)));
    this.consts.set(key, n);
    return n;
  }

  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const o = out ?? this.name(type);
    this.nodes.push(nodeProto(type, inputs, [o], `n${this.nodes.length}_${type}`, attrs));
    return o;
  }

  opMulti(type: string, inputs: string[], nOut: number, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = Array.from({ length: nOut }, () => this.name(type));
    this.nodes.push(nodeProto(type, inputs, outs, `n${this.nodes.length}_${type}`, attrs));
    return outs;
  }

  /**
   * An onnxruntime contrib operator (domain com.microsoft), for graphs only onnxruntime runs (the feature
   * cache's ViT pass) — never in an exported model. `outputs`: how many, or their names ('' skips an optional
   * output). Returns the output names.
   */
  contribOp(type: string, inputs: string[], outputs: number | string[], attrs: Record<string, AttrValue> = {}): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.name(type)) : outputs;
    this.nodes.push(nodeProto(type, inputs, outs, `n${this.nodes.length}_${type}`, attrs, CONTRIB_DOMAIN));
    this.usesContrib = true;
    return outs;
  }

  // ---- layers -------------------------------------------------------------------------------------------------

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  /** x [..., in] · W [in, out] (+ b) */
  linear(x: string, w: string, b?: string): string {
    const y = this.op('MatMul', [x, w]);
    return b ? this.add(y, b) : y;
  }

  layerNorm(x: string, g: string, b: string, eps: number): string {
    return this.op('LayerNormalization', [x, g, b], { axis: -1, epsilon: { float: eps } });
  }

  /** exact GELU 0.5·x·(1 + erf(x/√2)) */
  gelu(x: string): string {
    const e = this.op('Erf', [this.op('Mul', [x, this.f32(Math.SQRT1_2)])]);
    return this.mul(this.mul(x, this.f32(0.5)), this.add(e, this.f32(1)));
  }

  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.i64(shape)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  /** Slice along one axis [start, end) */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.op('Slice', [x, this.i64([start]), this.i64([end]), this.i64([axis])]);
  }

  concat(xs: string[], axis: number): string {
    return this.op('Concat', xs, { axis });
  }

  /** NHWC → Conv (NCHW, weight (out,in,kh,kw)) → NHWC */
  convNhwc(x: string, w: string, b: string | null, kernel: number, stride: number, pad: number): string {
    const xc = this.transpose(x, [0, 3, 1, 2]);
    const inputs = b ? [xc, w, b] : [xc, w];
    const y = this.op('Conv', inputs, { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    return this.transpose(y, [0, 2, 3, 1]);
  }

  /** [B, ...] with a leading batch dim taken from `like` (for broadcasting parameters to the batch) */
  expandBatch(param: string, like: string, rest: number[]): string {
    const b = this.op('Shape', [like], { start: 0, end: 1 });
    return this.op('Expand', [param, this.concat([b, this.i64(rest)], 0)]);
  }

  encode(meta: { producer: string; version: string; doc: string; props: Record<string, string> }): Uint8Array {
    const g = new Msg();
    for (const n of this.nodes) g.msg(1, n);
    g.str(2, 'hst');
    for (const i of this.inits) g.msg(5, i);
    for (const i of this.inputs) g.msg(11, i);
    for (const o of this.outputs) g.msg(12, o);
    const m = new Msg().int(1, IR_VERSION).str(2, meta.producer).str(3, meta.version).str(6, meta.doc).msg(7, g);
    m.msg(8, new Msg().str(1, '').int(2, OPSET));
    if (this.usesContrib) m.msg(8, new Msg().str(1, CONTRIB_DOMAIN).int(2, 1));
    for (const [k, v] of Object.entries(meta.props)) m.msg(14, new Msg().str(1, k).str(2, v));
    return m.finish();
  }
}

export { attribute };
