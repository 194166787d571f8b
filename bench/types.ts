// The shape every benchmark returns; bench/run.ts renders it as a markdown table.
export type BenchCell = string | number | boolean | null | undefined;

export interface BenchTable {
  title: string;
  /** Column headers. When absent, the keys of object rows, in order of first appearance. */
  columns?: string[];
  /** A row is either cells in column order, or an object keyed by column name. */
  rows: Array<readonly BenchCell[] | object>;
  /** Sentences under the table: machine, method, caveats. */
  notes?: string[];
}

/** A module named in bench/registry.ts. `child` is for benchmarks that measure in fresh processes
 * (see bench/child.ts): it runs there and returns JSON-serialisable data to the parent. */
export interface BenchModule {
  run(): Promise<BenchTable>;
  child?(): Promise<unknown>;
}
