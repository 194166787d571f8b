export { generateShapes, generateDemo, shapesSplit, toCoco, DEMO_DEFAULTS } from './generate';
export type { GenerateShapesOptions, ShapesDataset, ShapesInstance } from './generate';
export { SHAPE_CLASSES, SHAPE_CLASS_COLORS, type ShapeClassName } from './shapes';
