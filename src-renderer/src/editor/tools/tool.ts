/// <reference lib="dom" />
// (DOM types: these modules are also type-checked through the unit tests under the Node tsconfig.)
// What every canvas tool sees (ToolHost) and implements (Tool). Tools are plain classes outside Vue's
// reactivity; they read and write the annotation model only through the host.
import type { Annotation, Changeset, Geometry } from '@contract/schemas';
import type { Point } from '../geometry';
import type { Viewport } from '../viewport';

export interface ToolPointer {
  image: Point;
  screen: Point;
  shift: boolean;
  ctrl: boolean;
  alt: boolean;
}

export interface ToolHost {
  readonly imageId: number;
  readonly width: number;
  readonly height: number;
  viewport(): Viewport;
  annotations(): readonly Annotation[];
  selectedIds(): readonly string[];
  select(ids: string[]): void;
  /** Active class for new shapes; null (with a message shown) when the project has no class yet. */
  classIdForNew(): number | null;
  colorOf(classId: number): string;
  commit(cs: Changeset): void;
  /** Topmost visible annotation under p (image coords). */
  hitTest(p: Point): Annotation | null;
  /** Temporary geometry shown instead of the stored one while dragging. */
  setPreview(id: string, g: Geometry | null): void;
  brushRadius(): number;
  invalidate(): void;
  notify(text: string): void;
}

export interface Tool {
  readonly cursor: string;
  /** true when the tool used the press (the canvas then captures the pointer) */
  down(p: ToolPointer): boolean;
  move(p: ToolPointer): void;
  up(p: ToolPointer): void;
  /** Keyboard actions the tool handles itself (Enter, Backspace, Escape); true when consumed. */
  action(name: string): boolean;
  drawOverlay(ctx: CanvasRenderingContext2D): void;
  cancel(): void;
}

/** Handle sizes are in screen pixels, converted to image pixels at the current zoom. */
export const HANDLE_PX = 7;
export const imagePx = (host: ToolHost, screenPx: number) => screenPx / host.viewport().scale;

export function now(): number {
  return Date.now();
}

export function newAnnotation(id: string, imageId: number, classId: number, geometry: Geometry): Annotation {
  const t = now();
  return { id, imageId, classId, geometry, source: 'human', score: null, modelVersion: null, createdAt: t, updatedAt: t };
}

export const updated = (a: Annotation, geometry: Geometry): { before: Annotation; after: Annotation } => ({
  before: a,
  after: { ...a, geometry, updatedAt: now() },
});
