/**
 * One CSV record with RFC 4180 quoting: a field that starts with the quote
 * character runs to the matching closing quote, a doubled quote inside it is
 * one literal quote, and delimiters and line breaks inside it are data. A
 * quote inside an unquoted field is kept literally (lenient, loses nothing).
 *
 * This is the slow path: the fast parser hands a record here only when one of
 * its fields starts with a quote, and for header lines.
 */

export type QuotedParse =
  | {
      kind: 'ok';
      fields: string[];
      /** Position just after the record's line break (or `end`). */ next: number;
      /** Line breaks inside quoted fields. */ innerNewlines: number;
    }
  | { kind: 'error'; reason: string }
  /** The record continues past `end` and more input is expected. */
  | { kind: 'more' };

const LF = 10;
const CR = 13;

function delimiterAt(buf: Uint8Array, i: number, delim: Uint8Array, end: number): boolean {
  if (buf[i] !== delim[0]) return false;
  if (delim.length === 1) return true;
  if (i + delim.length > end) return false;
  for (let k = 1; k < delim.length; k++) if (buf[i + k] !== delim[k]) return false;
  return true;
}

/**
 * Parse the record starting at `pos`. `eof` says whether `end` is the end of
 * the input (otherwise a record reaching `end` asks for more).
 */
export function parseQuotedRecord(buf: Uint8Array, pos: number, end: number, eof: boolean, delim: Uint8Array, quote: number): QuotedParse {
  const decoder = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fields: string[] = [];
  let i = pos;
  let innerNewlines = 0;
  for (;;) {
    if (quote >= 0 && i < end && buf[i] === quote) {
      // Quoted field: collect segments between doubled quotes.
      let text = '';
      let segStart = i + 1;
      i++;
      for (;;) {
        if (i >= end) return eof ? { kind: 'error', reason: 'quoted field is not closed before the end of the file' } : { kind: 'more' };
        const c = buf[i]!;
        if (c === quote) {
          if (i + 1 < end && buf[i + 1] === quote) {
            text += decoder.toString('utf8', segStart, i + 1);
            i += 2;
            segStart = i;
            continue;
          }
          if (i + 1 >= end && !eof) return { kind: 'more' };
          text += decoder.toString('utf8', segStart, i);
          i++;
          break;
        }
        if (c === LF) innerNewlines++;
        i++;
      }
      fields.push(text);
      if (i >= end) {
        if (!eof) return { kind: 'more' };
        return { kind: 'ok', fields, next: end, innerNewlines };
      }
      if (delimiterAt(buf, i, delim, end)) {
        i += delim.length;
        continue;
      }
      if (buf[i] === LF) return { kind: 'ok', fields, next: i + 1, innerNewlines };
      if (buf[i] === CR && (i + 1 === end || buf[i + 1] === LF)) return { kind: 'ok', fields, next: Math.min(i + 2, end), innerNewlines };
      return { kind: 'error', reason: `unexpected character ${JSON.stringify(String.fromCharCode(buf[i]!))} after a closing quote` };
    }
    // Unquoted field: up to the next delimiter or line break.
    const s = i;
    while (i < end && buf[i] !== LF && !delimiterAt(buf, i, delim, end)) i++;
    let e = i;
    if (i < end && buf[i] === LF && e > s && buf[e - 1] === CR) e--;
    else if (i === end && e > s && buf[e - 1] === CR) e--;
    fields.push(decoder.toString('utf8', s, e));
    if (i >= end) {
      if (!eof) return { kind: 'more' };
      return { kind: 'ok', fields, next: end, innerNewlines };
    }
    if (buf[i] === LF) return { kind: 'ok', fields, next: i + 1, innerNewlines };
    i += delim.length;
  }
}
