/**
 * A pipeline file's text parsed with the positions of its values kept, so a
 * validation error can name `file:line:column` of the value it is about.
 * JSON files are read with JSON.parse (their values), and located through the
 * YAML parser, which reads JSON as well.
 */
import YAML, { isMap, isScalar, LineCounter, type Document, type Node } from 'yaml';
import { ConfigError } from '../stages/core/config-schema.js';

export type PathSegment = string | number;

/** "line:column" (1-based) of the value at `path` (or of its key), or undefined when unknown. */
export type Locator = (path: readonly PathSegment[], key: boolean) => string | undefined;

export interface PipelineDocument {
  raw: unknown;
  locate: Locator;
}

const isJson = (source: string) => source.endsWith('.json');

/** The first line of a parser message, without the position the parser appends. */
function shortMessage(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** "line:column" of a character offset. */
function offsetPosition(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

function locatorFor(doc: Document, lines: LineCounter): Locator {
  const position = (node: Node | null | undefined) => {
    if (!node?.range) return undefined;
    const { line, col } = lines.linePos(node.range[0]);
    return `${line}:${col}`;
  };
  return (path, key) => {
    // The nearest enclosing node that exists: a missing field points at its parent.
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      if (key && n === path.length && n > 0) {
        const parent = doc.getIn(prefix.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(prefix[n - 1]));
          if (pair && isScalar(pair.key)) return position(pair.key);
        }
        continue;
      }
      const node = n === 0 ? doc.contents : doc.getIn(prefix, true);
      if (node && typeof node === 'object' && 'range' in node) return position(node as Node);
    }
    return undefined;
  };
}

/** Parse a pipeline file's text; a syntax error is a ConfigError at `file:line:column`. */
export function parsePipelineDocument(text: string, source: string): PipelineDocument {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (isJson(source)) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      const message = (e as Error).message;
      const at = /at position (\d+)/.exec(message);
      const where = at ? `:${offsetPosition(text, Number(at[1]))}` : '';
      throw new ConfigError(`${source}${where}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, ['parse']);
    }
    return { raw, locate: doc.errors.length ? () => undefined : locatorFor(doc, lines) };
  }
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    throw new ConfigError(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML: ${shortMessage(error.message)}`, ['parse']);
  }
  return { raw: doc.toJS(), locate: locatorFor(doc, lines) };
}
