// Head settings saved with a model version → the heads' constructor options (same mapping as TaskModel), kept
// here without TaskModel's Node-only imports so the standalone runtime can build the heads.
import type { MultiTaskOptions } from '../../heads/multi-task';
import type { HeadSettings } from '../../task-model/task-model';

export function headOptions(stageChannels: readonly number[], s: HeadSettings, seed = 0): MultiTaskOptions {
  return {
    stageChannels,
    numClasses: s.numClasses,
    tasks: s.tasks,
    fpnWidth: s.fpnWidth,
    detStrides: s.detStrides,
    towerDepth: s.towerDepth,
    maskStride: s.maskStride,
    maskBranchDepth: s.maskBranchDepth,
    semanticStrides: s.semanticStrides,
    lossWeights: s.lossWeights,
    seed,
  };
}
