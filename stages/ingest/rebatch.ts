/**
 * Re-cuts a stream of interaction batches of any sizes into batches of
 * exactly `batchSize` rows (the last one shorter), copying the rows in
 * order. Ranges parsed on worker threads end wherever their bytes end; cut
 * again here, the batches emitted downstream and written to the dataset are
 * the ones the sequential ingest makes, row for row and batch for batch.
 */
import type { Batch, Column, NumericColumn } from '../core/batch.js';

type Ctor = new (n: number) => NumericColumn;

export class Rebatcher {
  readonly ready: Batch[] = [];
  total = 0;
  private names: string[] = [];
  private ctors: Ctor[] = [];
  private cols: NumericColumn[] = [];
  private row = 0;

  constructor(readonly batchSize: number) {}

  push(b: Batch): void {
    if (b.numRows === 0) return;
    if (this.names.length === 0) {
      this.names = Object.keys(b.columns);
      this.ctors = this.names.map((n) => (b.columns[n] as NumericColumn).constructor as Ctor);
      this.allocate();
    }
    const src = this.names.map((n) => b.columns[n] as NumericColumn);
    let at = 0;
    while (at < b.numRows) {
      const take = Math.min(b.numRows - at, this.batchSize - this.row);
      for (let c = 0; c < src.length; c++) (this.cols[c] as Float64Array).set((src[c] as Float64Array).subarray(at, at + take), this.row);
      this.row += take;
      at += take;
      this.total += take;
      if (this.row === this.batchSize) this.cut();
    }
  }

  /** Cut the rows held so far (call at the end of input). */
  flush(): void {
    if (this.row > 0) this.cut();
  }

  private allocate(): void {
    this.cols = this.ctors.map((C) => new C(this.batchSize));
    this.row = 0;
  }

  private cut(): void {
    const n = this.row;
    const full = n === this.batchSize;
    const columns: Record<string, Column> = {};
    this.names.forEach((name, c) => {
      columns[name] = full ? this.cols[c]! : (this.cols[c]!.subarray(0, n) as NumericColumn);
    });
    this.ready.push({ table: 'interactions', numRows: n, columns });
    this.allocate();
  }
}
