// A model trained on tiles says so in its exports: metadata.json (and the ONNX model's properties) carry the tile
// spec, and the README tells a user's own runtime how to cut and merge — the recipe it gives is tileGrid's.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import type { ExportSource } from '../../../src-main/core/export/export-source';
import { exportOnnx } from '../../../src-main/core/export/onnx-export';
import { exportMetadata, tilingNote } from '../../../src-main/core/export/tfjs-export';
import { tileGrid } from '../../../src-main/core/geometry/tiles';
import { buildTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../../src-main/core/task-model/task-model';
import { setup, tmp } from './helpers';

describe('exports of a model trained on tiles', () => {
  let src: ExportSource;
  const tiles = { size: 640, overlap: 96 };
  beforeAll(async () => {
    await setup();
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
      heads: defaultHeadSettings(['detect'], 2, { fpnWidth: 8, towerDepth: 1, detStrides: [8, 16] }),
      classes: ['a', 'b'], inputSize: 32, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 1, tiles,
    };
    src = { model: buildTaskModel(spec), spec };
  }, 60_000);
  afterAll(() => src?.model.dispose());

  it('metadata carries the tile spec (null when the model saw whole images)', () => {
    expect(exportMetadata(src, {}).tiles).toEqual(tiles);
    expect(exportMetadata({ ...src, spec: { ...src.spec, tiles: undefined } }, {}).tiles).toBeNull();
    expect(tilingNote({ ...src.spec, tiles: null })).toBe('');
  });

  it("the README's cutting recipe gives tileGrid's tiles", () => {
    const note = tilingNote(src.spec);
    expect(note).toContain('n = ⌈(L − 96) / 544⌉');
    expect(note).toContain('round(i·(L − 640) / (n − 1))');
    // the recipe as written, against the studio's own grid
    const recipe = (L: number) => {
      if (L <= tiles.size) return [0];
      const n = Math.ceil((L - tiles.overlap) / (tiles.size - tiles.overlap));
      return Array.from({ length: n }, (_, i) => Math.round((i * (L - tiles.size)) / (n - 1)));
    };
    for (const [w, h] of [[4000, 3000], [641, 500], [1184, 1185], [6000, 4000]]) {
      const grid = tileGrid(w, h, tiles);
      expect(grid.map((t) => [t.x, t.y])).toEqual(recipe(h).flatMap((y) => recipe(w).map((x) => [x, y])));
    }
  });

  it('the ONNX export writes it to metadata.json, the model properties and the README', async () => {
    const out = join(tmp(), 'onnx');
    try {
      await exportOnnx(src, out);
      expect(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).tiles).toEqual(tiles);
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('## Tiles: this model was trained on tiles');
      // metadata_props are plain protobuf strings: the key and its JSON value appear in the file
      const bytes = readFileSync(join(out, 'model.onnx')).toString('latin1');
      expect(bytes).toContain('tiles');
      expect(bytes).toContain(JSON.stringify(tiles));
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  }, 20_000);
});
