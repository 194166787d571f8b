export { bceWithLogits, bceWithLogitsWeighted } from './bce';
export { sigmoidFocalLoss, sigmoidFocalLossElementwise, type FocalOptions } from './focal';
export { giouLoss, giouLossLtrb } from './giou';
export { diceLoss } from './dice';
export { crossEntropyWithIgnore, findBadLabel, IGNORE_LABEL } from './cross-entropy';
