// Model predictions per image, kept apart from annotations: they are suggestions until the user accepts them
// (accepting = a changeset that creates annotations with source 'model').
import { Geometry } from '../../contract/schemas';
import type { Statements } from './db';
import { geometryFromColumn, geometryToColumn } from './rows';

export interface Prediction {
  id: number;
  imageId: number;
  modelVersion: number;
  classId: number;
  geometry: Geometry;
  score: number;
  createdAt: number;
}

export type NewPrediction = Pick<Prediction, 'classId' | 'geometry' | 'score'>;

interface PredRow {
  id: number;
  image_id: number;
  model_version: number;
  class_id: number;
  kind: string;
  geometry: string;
  score: number;
  created_at: number;
}

const fromRow = (r: PredRow): Prediction => ({
  id: r.id,
  imageId: r.image_id,
  modelVersion: r.model_version,
  classId: r.class_id,
  geometry: geometryFromColumn(r.kind, r.geometry),
  score: r.score,
  createdAt: r.created_at,
});

export class PredictionStore {
  constructor(private readonly st: Statements) {}

  /** Replaces the predictions of one model on one image. */
  put(imageId: number, modelVersion: number, preds: NewPrediction[]): void {
    const ins = this.st.get(
      'INSERT INTO predictions (image_id, model_version, class_id, kind, geometry, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    this.st.db.transaction(() => {
      this.st.get('DELETE FROM predictions WHERE image_id = ? AND model_version = ?').run(imageId, modelVersion);
      preds.forEach((p, i) => {
        const g = Geometry.safeParse(p.geometry);
        if (!g.success) throw new Error(`prediction ${i} for image ${imageId}: invalid geometry (${g.error.issues[0].message})`);
        if (!(p.score >= 0 && p.score <= 1)) throw new Error(`prediction ${i} for image ${imageId}: score ${p.score} is not in [0, 1]`);
        ins.run(imageId, modelVersion, p.classId, g.data.kind, geometryToColumn(g.data), p.score, now);
      });
    }).immediate();
  }

  /** Predictions of one image, best first; by default those of the active model(s) and any other stored. */
  list(imageId: number, modelVersion?: number): Prediction[] {
    const rows = modelVersion === undefined
      ? this.st.get<[number], PredRow>('SELECT * FROM predictions WHERE image_id = ? ORDER BY score DESC, id').all(imageId)
      : this.st.get<[number, number], PredRow>('SELECT * FROM predictions WHERE image_id = ? AND model_version = ? ORDER BY score DESC, id')
        .all(imageId, modelVersion);
    return rows.map(fromRow);
  }

  /** Drops single predictions by id; the other suggestions keep their ids (the editor holds them). */
  delete(ids: readonly number[]): number {
    const del = this.st.get<[number]>('DELETE FROM predictions WHERE id = ?');
    let n = 0;
    this.st.db.transaction(() => {
      for (const id of ids) n += del.run(id).changes;
    }).immediate();
    return n;
  }

  /** Drops the predictions of one model (or all). */
  clear(modelVersion?: number): number {
    return modelVersion === undefined
      ? this.st.get('DELETE FROM predictions').run().changes
      : this.st.get('DELETE FROM predictions WHERE model_version = ?').run(modelVersion).changes;
  }
}
