// The authors' freeze_vit() rule, applied to official PyTorch parameter names (spec §1.2): a parameter is
// trainable iff its name contains "m_", or both "block" and "norm", or is head.weight/head.bias, or contains
// "T_Bridge". Buffers (BatchNorm running stats) are never trainable.
//
// In effect: side network, bridges, bridge LNs, all MetaT, every ViT block's norm1/norm2 and the head train;
// patch embedding, cls token, pos embedding, attention/MLP weights and the final ViT norm stay frozen.

export function isTrainableName(name: string): boolean {
  if (name.includes('running_mean') || name.includes('running_var') || name.includes('num_batches_tracked')) return false;
  if (name.includes('m_')) return true;
  if (name.includes('block') && name.includes('norm')) return true;
  if (name === 'head.weight' || name === 'head.bias') return true;
  return name.includes('T_Bridge');
}
