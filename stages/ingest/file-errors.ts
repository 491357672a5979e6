/**
 * A data error about a whole input file rather than one of its rows: not a
 * readable Parquet file, a corrupt page, a column of the wrong type, a file
 * in UTF-16, an unreadable file. It is a DataError (the CLI exits with code 2
 * and prints the message) whose message names the file, and the column when
 * there is one: `data/x.parquet: column "reward": …`.
 */
import { DataError } from '../core/errors.js';

export class FileDataError extends DataError {
  constructor(file: string, reason: string, column?: string) {
    super(file, 0, column ?? '(file)', '', reason);
    this.message = column === undefined ? `${file}: ${reason}` : `${file}: column "${column}": ${reason}`;
  }
}

/** The message of anything thrown (parquet-wasm throws strings and JsErrors as well as Errors), on one line. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : typeof e === 'string' ? e : String(e);
  return text.replace(/\s*\n\s*/g, ' ').trim() || (e instanceof Error ? e.name : 'unknown error');
}
