/**
 * A small HTML tokenizer for the report tests: elements with attributes,
 * nesting checked (every non-void element closed, in order), text content.
 * <svg> content is parsed as XML-like (self-closing tags allowed).
 */
export interface HtmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: HtmlElement[];
  text: string;
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input', 'col', 'area', 'base', 'source', 'wbr']);
const RAW = new Set(['style', 'script', 'pre']);

export function parseHtml(html: string): HtmlElement {
  const root: HtmlElement = { tag: '#root', attrs: {}, children: [], text: '' };
  const stack: HtmlElement[] = [root];
  const re = /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\/([a-zA-Z][\w:-]*)\s*>|<([a-zA-Z][\w:-]*)((?:\s+[^\s=/>]+(?:="[^"]*"|='[^']*')?)*)\s*(\/?)>|([^<]+)/g;
  for (const m of html.matchAll(re)) {
    const top = stack[stack.length - 1]!;
    if (m[1]) {
      if (top.tag !== m[1]) throw new Error(`</${m[1]}> closes <${top.tag}>`);
      stack.pop();
      stack[stack.length - 1]!.text += top.text;
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([^\s=/>]+)(?:="([^"]*)"|='([^']*)')?/g)) attrs[a[1]!.toLowerCase()] = a[2] ?? a[3] ?? '';
      const el: HtmlElement = { tag: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (!m[4] && !VOID.has(m[2].toLowerCase())) stack.push(el);
    } else if (m[5]) {
      if (m[5].includes('<') && !RAW.has(top.tag)) throw new Error('stray <');
      top.text += m[5];
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.tag}>`);
  return root;
}

export function findAll(el: HtmlElement, pred: (e: HtmlElement) => boolean, out: HtmlElement[] = []): HtmlElement[] {
  for (const c of el.children) {
    if (pred(c)) out.push(c);
    findAll(c, pred, out);
  }
  return out;
}

/** Text of an element and its descendants, entities decoded (the few the report uses). */
export function textOf(el: HtmlElement): string {
  return el.text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
