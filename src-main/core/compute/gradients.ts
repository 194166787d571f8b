// Gradient functions. tfjs-core's Node bundle ships none (the @tensorflow/tfjs union package
// normally registers them), and its ESM registration file uses extensionless imports that Node
// cannot load. A relative path makes esbuild bundle that file (and vitest transform it) instead
// of leaving it to Node. The registry is process-global, so the ops used by these gradients
// register into the same engine as the `tf` everyone imports from engine.ts.
import '../../../node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js';
