// What the Train screen says, in plain language (issue 18): the stage of a run (never "starting the worker"
// through a whole run, never a silent "ETA 0 s" while the model is evaluated and saved), warnings about the
// plan (no val images), and the one action that fixes a plan that cannot start.
import type { EventPayload, TrainPlan, TrainState } from '@contract/api';

type Progress = EventPayload<'train.progress'>;

/** The line under the progress bar while a run is live, or null. */
export function runStage(state: TrainState, last: Progress | null, message: string | null): string | null {
  if (state !== 'running') return null;
  if (!last) return message ?? 'Starting…';
  if (last.step >= last.totalSteps) return 'All steps done: evaluating on the val split and saving the model…';
  return last.message ?? null;
}

/** "ETA 2 min 5 s", or the finishing stage once the last step is done (where the ETA would read 0 s). */
export function etaText(last: Progress | null): string | null {
  if (!last) return null;
  if (last.step >= last.totalSteps) return 'finishing: evaluation and saving';
  const s = Math.max(0, Math.round(last.etaSec));
  return `ETA ${s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`}`;
}

export function planWarnings(plan: TrainPlan | null): string[] {
  if (!plan) return [];
  const out: string[] = [];
  if (plan.valImages === 0)
    out.push('No images are in the val split, so this run cannot be evaluated and a worse model could replace a better one. In the gallery, filter by split or set some labelled images to val in the editor (about 1 in 5).');
  return out;
}

export interface TrainProblem {
  text: string;
  action: 'gallery' | 'random-backbone' | null;
}

/** A plan error turned into what the user can do about it: one sentence and one action. */
export function trainProblem(planError: string | null): TrainProblem | null {
  if (!planError) return null;
  if (/backbone/i.test(planError))
    return { text: 'Fine-tuning starts from a pretrained image model (the backbone), and none is installed yet. Fine-tune opens the backbone manager (download one, or import a file you have); for a quick try without one, use a random backbone: the model will learn, but far worse than with a real one.', action: 'random-backbone' };
  if (/no labell?ed image|label more images/i.test(planError))
    return { text: 'There is nothing to learn from yet: label a few images (they go to the train split) and come back.', action: 'gallery' };
  return { text: planError.charAt(0).toUpperCase() + planError.slice(1), action: null };
}
