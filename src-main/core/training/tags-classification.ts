// Image tags as the classification task's labels: a project whose images carry tags (typed in the editor, or
// LabelMe image `flags`) and no shapes trains the classification head. Each image with exactly one tag is an
// example of that tag's class; the view gives it one whole-image box of that class, which the data pipeline's
// 'sole-class' rule and the evaluation's image-level ground truth already read as the image's class.
import type { Dataset } from '../datasets/types';

export interface TagsView {
  dataset: Dataset;
  /** images left out because they carry several tags (the classification head picks one class per image) */
  multiTagged: number;
}

/** True when the labels are image tags only: no shapes, and at least one tagged image. */
export function labelsAreTags(ds: Dataset): boolean {
  return ds.annotations.length === 0 && ds.images.some((im) => (im.tags?.length ?? 0) > 0);
}

export function classificationFromTags(ds: Dataset): TagsView {
  const single = ds.images.filter((im) => im.tags?.length === 1);
  const multiTagged = ds.images.filter((im) => (im.tags?.length ?? 0) > 1).length;
  const names = [...new Set(single.map((im) => im.tags![0]))].sort();
  return {
    dataset: {
      images: single,
      classes: names.map((name) => ({ name })),
      annotations: single.map((im) => ({ imageKey: im.key, className: im.tags![0], geometry: { kind: 'box', x: 0, y: 0, w: im.width, h: im.height } })),
      issues: [],
    },
    multiTagged,
  };
}

/** Why a tags-only project cannot train yet, or null. */
export function tagsProblem(view: TagsView): string | null {
  const classes = view.dataset.classes.length;
  const several = view.multiTagged ? ` (${view.multiTagged} image${view.multiTagged === 1 ? ' has' : 's have'} several tags and ${view.multiTagged === 1 ? 'is' : 'are'} left out)` : '';
  if (classes < 2) return `classification from image tags needs at least two different tags, each on images with one tag only; found ${classes}${several}`;
  return null;
}
