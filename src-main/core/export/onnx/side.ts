// ONNX twin of model/side-network.ts (conv stem, downsamplers, feature bridges, side blocks, stage norms).
import type { HstModel } from '../../model/hst';
import type { SideBlock } from '../../model/side-block';
import type { OnnxGraph } from './graph';
import type { OnnxVitOut } from './vit';
import { convW, w } from './weights';

function sideBlock(g: OnnxGraph, blk: SideBlock, x: string, kv: string, fine: string, N: number, name: string): string {
  const c = blk.dim;
  const h = blk.heads;
  const hd = c / h;
  const n1 = g.layerNorm(x, w(g, `${name}norm1.weight`, blk.norm1g), w(g, `${name}norm1.bias`, blk.norm1b), blk.lnEps);
  const q = g.transpose(g.reshape(g.linear(n1, w(g, `${name}attn.q.weight`, blk.qW), w(g, `${name}attn.q.bias`, blk.qB)), [0, N, h, hd]), [0, 2, 1, 3]); // [B,h,N,hd]
  const kT = g.transpose(g.reshape(g.linear(kv, w(g, `${name}attn.k.weight`, blk.kW), w(g, `${name}attn.k.bias`, blk.kB)), [0, 2, h, hd]), [0, 2, 3, 1]); // [B,h,hd,2]
  const v = g.transpose(g.reshape(g.linear(kv, w(g, `${name}attn.v.weight`, blk.vW), w(g, `${name}attn.v.bias`, blk.vB)), [0, 2, h, hd]), [0, 2, 1, 3]); // [B,h,2,hd]
  const att = g.op('Softmax', [g.mul(g.op('MatMul', [q, kT]), g.f32(1 / Math.sqrt(hd)))], { axis: -1 });
  const o = g.reshape(g.transpose(g.op('MatMul', [att, v]), [0, 2, 1, 3]), [0, N, c]);
  const x1 = g.add(x, g.linear(o, w(g, `${name}attn.proj.weight`, blk.projW), w(g, `${name}attn.proj.bias`, blk.projB)));
  const x2 = g.add(x1, fine);
  const n2 = g.layerNorm(x2, w(g, `${name}norm2.weight`, blk.norm2g), w(g, `${name}norm2.bias`, blk.norm2b), blk.lnEps);
  const m = g.linear(g.gelu(g.linear(n2, w(g, `${name}mlp.fc1.weight`, blk.fc1W), w(g, `${name}mlp.fc1.bias`, blk.fc1B))), w(g, `${name}mlp.fc2.weight`, blk.fc2W), w(g, `${name}mlp.fc2.bias`, blk.fc2B));
  return g.add(x2, m);
}

/** img NHWC + the ViT pass → the 4 stage maps NHWC [B, H_s, W_s, C_s] with their sizes. */
export function onnxSide(g: OnnxGraph, model: HstModel, img: string, H: number, W: number, vit: OnnxVitOut): { stages: string[]; shapes: [number, number, number][] } {
  const side = model.side;
  const st = side.stem;
  const C1 = st.channels;
  // stem: conv3x3/s2 (no bias) → BatchNorm (running stats) → ReLU → conv2x2/s2 → tokens → LN
  const xc = g.transpose(img, [0, 3, 1, 2]);
  let y = g.op('Conv', [xc, convW(g, 'm_patch_embed1.conv.0.weight', st.conv0)], { kernel_shape: [3, 3], strides: [2, 2], pads: [st.pad, st.pad, st.pad, st.pad] });
  y = g.op('BatchNormalization', [y, w(g, 'bn.w', st.bnG), w(g, 'bn.b', st.bnB), w(g, 'bn.mean', st.bnMean), w(g, 'bn.var', st.bnVar)], { epsilon: { float: st.bnEps } });
  y = g.op('Relu', [y]);
  y = g.op('Conv', [y, convW(g, 'm_patch_embed1.conv.3.weight', st.conv3W), w(g, 'm_patch_embed1.conv.3.bias', st.conv3B)], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] });
  let h = Math.floor((Math.floor((H + 2 - 3) / 2) + 1) / 2);
  let wd = Math.floor((Math.floor((W + 2 - 3) / 2) + 1) / 2);
  let tokens = g.layerNorm(g.transpose(g.reshape(y, [0, C1, h * wd]), [0, 2, 1]), w(g, 'stem.norm.w', st.normG), w(g, 'stem.norm.b', st.normB), st.lnEps);
  const stages: string[] = [];
  const shapes: [number, number, number][] = [];
  for (let s = 0; s < 4; s++) {
    const c = side.cfg.m_embed_dims[s];
    const down = side.downs[s];
    if (down) {
      const map = g.reshape(tokens, [0, h, wd, side.cfg.m_embed_dims[s - 1]]);
      const d = g.convNhwc(map, convW(g, `m_patch_embed${s + 1}.proj.weight`, down.w), w(g, `m_patch_embed${s + 1}.proj.bias`, down.b), 3, 2, 1);
      h = Math.floor((h + 2 - 3) / 2) + 1;
      wd = Math.floor((wd + 2 - 3) / 2) + 1;
      tokens = g.layerNorm(g.reshape(d, [0, h * wd, c]), w(g, `m_patch_embed${s + 1}.norm.weight`, down.normG), w(g, `m_patch_embed${s + 1}.norm.bias`, down.normB), down.lnEps);
    }
    const br = side.bridges[s];
    const bw = w(g, `T_Bridge_${s + 1}.weight`, br.w);
    const bb = w(g, `T_Bridge_${s + 1}.bias`, br.b);
    side.cfg.stageLayers[s].forEach((l, j) => {
      // bridge: project at the ViT grid, resize bilinearly (half-pixel) to the stage grid, mean for the global token
      const proj = g.linear(vit.patches[l], bw, bb); // [B, n, C]
      let fine = proj;
      if (vit.h !== h || vit.w !== wd) {
        const nchw = g.transpose(g.reshape(proj, [0, vit.h, vit.w, c]), [0, 3, 1, 2]);
        const sizes = g.concat([g.op('Shape', [nchw], { start: 0, end: 2 }), g.i64([h, wd])], 0);
        const r = g.op('Resize', [nchw, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
        fine = g.reshape(g.transpose(r, [0, 2, 3, 1]), [0, h * wd, c]);
      }
      const norm = br.projNorms.get(l)!;
      const m = g.layerNorm(g.linear(vit.metaOut[l], bw, bb), w(g, `m_proj_norm${l + 1}.weight`, norm.g), w(g, `m_proj_norm${l + 1}.bias`, norm.b), br.lnEps);
      const gl = g.op('ReduceMean', [fine], { axes: [1], keepdims: 1 });
      const kv = g.concat([m, gl], 1); // [B, 2, C]
      tokens = sideBlock(g, side.blocks[s][j], tokens, kv, fine, h * wd, `m_block${s + 1}.${j}.`);
    });
    tokens = g.layerNorm(tokens, w(g, `m_norm${s + 1}.weight`, side.norms[s].g), w(g, `m_norm${s + 1}.bias`, side.norms[s].b), side.stageNormEps);
    stages.push(g.reshape(tokens, [0, h, wd, c]));
    shapes.push([h, wd, c]);
  }
  return { stages, shapes };
}
