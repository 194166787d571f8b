// The backbone part of a feature-cache key: which ViT (by name and shape) produced the cached passes.
import type { TaskModelSpec } from '../task-model/model-spec';
import type { TaskModel } from '../task-model/task-model';

export function backboneId(spec: TaskModelSpec, model: TaskModel): string {
  const c = model.hst.config;
  const b = spec.backbone;
  const name = b.kind === 'pretrained' ? b.name : b.kind;
  return `${name}-d${c.embed_dim}x${c.depth}-p${c.patch_size}`;
}
