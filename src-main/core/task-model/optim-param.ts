// What a model offers an optimizer: one trainable variable under its checkpoint name. Defined beside the task
// model (which lists its trainable set) so the model does not depend on the trainer that consumes it.
import type { tf } from '../compute/engine';

export interface OptimParam {
  /** Checkpoint name of the parameter (used for the state's tensor names). */
  name: string;
  variable: tf.Variable;
  /** Overrides the default decay rule. */
  decay?: boolean;
}
