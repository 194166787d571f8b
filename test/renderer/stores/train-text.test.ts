import { describe, expect, it } from 'vitest';
import type { EventPayload, TrainPlan } from '../../../src-main/contract/api';
import { etaText, planWarnings, runStage, trainProblem } from '../../../src-renderer/src/stores/train-text';

const prog = (step: number, totalSteps: number, etaSec = 0, message?: string): EventPayload<'train.progress'> => ({ jobId: 'j', step, totalSteps, loss: 1, lr: 0.001, parts: {}, imagesPerSec: 3, etaSec, message });

describe('Train screen text', () => {
  it('drops "starting the training worker" once steps arrive, and names the finishing stage after the last step', () => {
    expect(runStage('running', null, 'starting the training worker')).toBe('starting the training worker');
    expect(runStage('running', prog(3, 100), 'starting the training worker')).toBeNull();
    expect(runStage('running', prog(3, 100, 5, 'filling the feature cache'), null)).toBe('filling the feature cache');
    expect(runStage('running', prog(100, 100), null)).toMatch(/evaluating on the val split and saving/);
    expect(runStage('done', prog(100, 100), 'x')).toBeNull();
  });
  it('never shows "ETA 0 s" after the last step', () => {
    expect(etaText(prog(100, 100, 0))).toBe('finishing: evaluation and saving');
    expect(etaText(prog(10, 100, 125))).toBe('ETA 2 min 5 s');
    expect(etaText(prog(10, 100, 9.6))).toBe('ETA 10 s');
  });
  it('warns when the plan has no val images', () => {
    const plan = { valImages: 0, trainImages: 12 } as TrainPlan;
    expect(planWarnings(plan)[0]).toMatch(/No images are in the val split/);
    expect(planWarnings({ ...plan, valImages: 3 })).toEqual([]);
  });
  it('turns plan errors into one plain sentence and one action', () => {
    expect(trainProblem('no labelled image is in the train split: label more images (or move some to train)')).toMatchObject({ action: 'gallery' });
    expect(trainProblem('no ViT backbone is installed (run `hst-studio backbone download vit-b16`). In the studio: choose "random backbone (demo only)" under Advanced.')).toMatchObject({ action: 'random-backbone' });
    expect(trainProblem('no ViT backbone is installed')!.text).not.toMatch(/hst-studio|--|CLI/);
    expect(trainProblem('disk full')).toEqual({ text: 'Disk full', action: null });
    expect(trainProblem(null)).toBeNull();
  });
});
