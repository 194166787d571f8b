// The tiling geometry lives in geometry/tiles.ts (prediction and evaluation, below training, cut and merge the
// same way); re-exported here so the training side's imports keep working.
export * from '../geometry/tiles';
