/**
 * A located data error: which file, which line (1-based, counting the header),
 * which field, and the offending value. Strict mode throws it; quarantine mode
 * records its `reason` beside the rejected row.
 */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: field "${field}": ${reason} (value: ${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)})`);
    this.name = 'DataError';
  }
}
