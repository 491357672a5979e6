/**
 * Raw id → dense int32 index (SPEC S1): 0 is padding, the first id seen gets
 * 1, the next new one 2, and so on, so indices follow first appearance in the
 * input (file name order, then line order).
 *
 * Raw ids are text. Those that are canonical non-negative integers ("17", not
 * "017" or "u17"; see parseCanonicalId) are looked up as numbers without ever
 * making a string: below 2^24 through a direct-address Int32Array (one load
 * per row), above through a Map<number, number>. Every other id goes through
 * a Map<string, number>. A canonical integer and its decimal text are the
 * same id, so JSON 17, CSV 17 and the vocabulary file's "17" all agree.
 *
 * A vocabulary may be frozen (`vocab: fixed`): looking up an unknown id then
 * returns 0 instead of assigning one, and the caller rejects the row.
 */
import { canonicalIdOfString } from './number-parse.js';

/** Ids below this use the direct table (at most 64 MB of Int32 at full size). */
const DIRECT_LIMIT = 1 << 24;
/** Canonical integer ids have at most 15 digits (parseCanonicalId); larger ones are string ids. */
const CANONICAL_LIMIT = 1e15;

/** A vocabulary's raw ids in index order (see IdVocabulary.exportIds). */
export interface ExportedIds {
  numbers: Float64Array;
  strings: string[];
}

export class IdVocabulary {
  private direct = new Int32Array(1024);
  private readonly numeric = new Map<number, number>();
  private readonly strings = new Map<string, number>();
  /** Raw id of each index as a number (NaN for string ids); index 0 unused. */
  private rawNumbers = new Float64Array(1024);
  private readonly rawStrings = new Map<number, string>();
  private count = 0;
  private lastRaw = -1;
  private lastIndex = 0;
  /** When true, unknown ids map to 0 and are not added. */
  frozen = false;

  constructor(readonly name: string) {}

  /** Number of ids (the largest index). */
  get size(): number {
    return this.count;
  }

  /** Index of a canonical integer id, assigning the next index if new (0 if frozen and unknown). */
  indexOfNumber(raw: number): number {
    if (raw === this.lastRaw) return this.lastIndex;
    let idx: number;
    if (raw < this.direct.length) {
      idx = this.direct[raw]!;
      if (idx === 0 && !this.frozen) idx = this.direct[raw] = this.append(raw, undefined);
    } else if (raw < DIRECT_LIMIT) {
      this.growDirect(raw);
      idx = this.frozen ? 0 : (this.direct[raw] = this.append(raw, undefined));
    } else if (raw >= CANONICAL_LIMIT) {
      return this.indexOfString(String(raw));
    } else {
      idx = this.numeric.get(raw) ?? 0;
      if (idx === 0 && !this.frozen) {
        idx = this.append(raw, undefined);
        this.numeric.set(raw, idx);
      }
    }
    if (idx !== 0) {
      this.lastRaw = raw;
      this.lastIndex = idx;
    }
    return idx;
  }

  /** Index of any textual id (canonical integers are routed to the numeric table). */
  indexOfString(raw: string): number {
    const n = canonicalIdOfString(raw);
    if (n >= 0) return this.indexOfNumber(n);
    let idx = this.strings.get(raw) ?? 0;
    if (idx === 0 && !this.frozen) {
      idx = this.append(Number.NaN, raw);
      this.strings.set(raw, idx);
    }
    return idx;
  }

  /** Index of an id without assigning (undefined when unknown). */
  get(raw: string | number): number | undefined {
    const n = typeof raw === 'number' ? (Number.isInteger(raw) && raw >= 0 && raw < CANONICAL_LIMIT ? raw : -1) : canonicalIdOfString(raw);
    if (n >= 0) {
      const idx = n < this.direct.length ? this.direct[n]! : (this.numeric.get(n) ?? 0);
      return idx === 0 ? undefined : idx;
    }
    return this.strings.get(String(raw));
  }

  /** The raw id text of an index (1 … size). */
  rawId(index: number): string {
    if (!Number.isInteger(index) || index < 1 || index > this.count) {
      throw new RangeError(`${this.name} vocabulary: index ${index} is outside 1…${this.count}`);
    }
    const v = this.rawNumbers[index]!;
    return Number.isNaN(v) ? this.rawStrings.get(index)! : String(v);
  }

  /** Every raw id in index order (index 1 first). */
  rawIds(): string[] {
    const out = new Array<string>(this.count);
    for (let i = 1; i <= this.count; i++) out[i - 1] = this.rawId(i);
    return out;
  }

  /**
   * The raw ids in index order, compactly (for sending between threads and
   * merging): each id as a number, NaN for text ids, whose texts follow in
   * `strings` in the same order.
   */
  exportIds(): ExportedIds {
    const numbers = this.rawNumbers.slice(1, this.count + 1);
    const strings: string[] = [];
    for (let i = 0; i < numbers.length; i++) if (Number.isNaN(numbers[i]!)) strings.push(this.rawStrings.get(i + 1)!);
    return { numbers, strings };
  }

  private append(rawNumber: number, rawString: string | undefined): number {
    const idx = ++this.count;
    if (idx > 0x7fffffff) throw new RangeError(`${this.name} vocabulary: more than 2^31 − 1 ids`);
    if (idx >= this.rawNumbers.length) {
      const grown = new Float64Array(this.rawNumbers.length * 2);
      grown.set(this.rawNumbers);
      this.rawNumbers = grown;
    }
    this.rawNumbers[idx] = rawNumber;
    if (rawString !== undefined) this.rawStrings.set(idx, rawString);
    return idx;
  }

  private growDirect(raw: number): void {
    let cap = this.direct.length;
    while (cap <= raw) cap *= 2;
    const grown = new Int32Array(Math.min(cap, DIRECT_LIMIT));
    grown.set(this.direct);
    this.direct = grown;
  }
}
