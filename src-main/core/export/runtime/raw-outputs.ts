// The inference model's raw outputs (before any post-processing), by name. One definition used by the studio
// (reference values), the bundled tfjs runtime and the ONNX export's output list, so all three agree.
import { tf } from '../../compute/engine';
import type { HstModel } from '../../model/hst';
import type { MultiTaskHeads } from '../../heads/multi-task';

/**
 * x [B, H, W, 3] normalised → named raw outputs:
 *   stage1..stage4 [B, H/s, W/s, C_s]                      the HST pyramid (always)
 *   det_cls [B, N, K] logits, det_box [B, N, 4] l,t,r,b px, det_ctr [B, N] logits   (detect)
 *   mask_feats [B, Hm, Wm, 8], mask_params [B, N, P]         (instance)
 *   sem_logits [B, H/4, W/4, K+1]                            (semantic)
 *   cls_logits [B, K]                                        (classify)
 */
export function rawOutputs(hst: HstModel, heads: MultiTaskHeads | null, x: tf.Tensor4D): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const out = hst.forward(x, { training: false });
    const r: Record<string, tf.Tensor> = {};
    out.stages.forEach((s, i) => (r[`stage${i + 1}`] = s));
    if (!heads) return r;
    const levels = heads.fpn ? heads.fpn.apply(out.stages) : {};
    if (heads.det) {
      const o = heads.det.forward(levels);
      r.det_cls = o.cls;
      r.det_box = o.box;
      r.det_ctr = o.ctr;
      if (heads.mask) {
        const m = heads.mask.forward(levels, o);
        r.mask_feats = m.maskFeats;
        r.mask_params = m.params;
      }
    }
    if (heads.sem) r.sem_logits = heads.sem.forward(levels);
    if (heads.cls) r.cls_logits = heads.cls.forward(out.stages[3], false);
    return r;
  });
}
