// Generalised IoU loss (Rezatofighi et al. 2019) for axis-aligned boxes.
import { tf } from '../compute/engine';

/**
 * 1 − GIoU for boxes in (x1,y1,x2,y2) format; pred and target [...,4] → [...].
 * Degenerate boxes are safe: areas are clamped at 0 and denominators at eps, so the loss and its gradient stay finite.
 */
export function giouLoss(pred: tf.Tensor, target: tf.Tensor, eps = 1e-7): tf.Tensor {
  return tf.tidy(() => {
    const [px1, py1, px2, py2] = tf.unstack(pred, -1);
    const [tx1, ty1, tx2, ty2] = tf.unstack(target, -1);
    const pArea = tf.mul(tf.relu(tf.sub(px2, px1)), tf.relu(tf.sub(py2, py1)));
    const tArea = tf.mul(tf.relu(tf.sub(tx2, tx1)), tf.relu(tf.sub(ty2, ty1)));
    const iw = tf.relu(tf.sub(tf.minimum(px2, tx2), tf.maximum(px1, tx1)));
    const ih = tf.relu(tf.sub(tf.minimum(py2, ty2), tf.maximum(py1, ty1)));
    const inter = tf.mul(iw, ih);
    const union = tf.add(tf.sub(tf.add(pArea, tArea), inter), eps);
    const ew = tf.sub(tf.maximum(px2, tx2), tf.minimum(px1, tx1));
    const eh = tf.sub(tf.maximum(py2, ty2), tf.minimum(py1, ty1));
    const enclose = tf.add(tf.mul(tf.relu(ew), tf.relu(eh)), eps);
    const iou = tf.div(inter, union);
    const giou = tf.sub(iou, tf.div(tf.sub(enclose, union), enclose));
    return tf.sub(1, giou);
  });
}

/**
 * 1 − GIoU for FCOS distance encodings: pred and target [...,4] are (l,t,r,b) ≥ 0 measured from the same point,
 * i.e. boxes (−l,−t,r,b).
 */
export function giouLossLtrb(pred: tf.Tensor, target: tf.Tensor, eps = 1e-7): tf.Tensor {
  return tf.tidy(() => {
    const toBox = (d: tf.Tensor) => {
      const [l, t, r, b] = tf.unstack(d, -1);
      return tf.stack([tf.neg(l), tf.neg(t), r, b], -1);
    };
    return giouLoss(toBox(pred), toBox(target), eps);
  });
}
