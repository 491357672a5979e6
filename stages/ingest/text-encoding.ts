/**
 * Byte-order marks of encodings other than UTF-8. Ingest reads UTF-8 only
 * (a UTF-8 mark is skipped); a file in UTF-16 or UTF-32 would read as
 * garbage names and NUL-laden ids, so it is set aside with a message that
 * says how to convert it.
 */

/** The encoding whose byte-order mark starts `buf` ("UTF-32LE", "UTF-16BE", …), or null. */
export function utf16Bom(buf: Uint8Array): string | null {
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xfe && buf[2] === 0 && buf[3] === 0) return 'UTF-32LE';
  if (buf.length >= 4 && buf[0] === 0 && buf[1] === 0 && buf[2] === 0xfe && buf[3] === 0xff) return 'UTF-32BE';
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return 'UTF-16LE';
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return 'UTF-16BE';
  return null;
}
