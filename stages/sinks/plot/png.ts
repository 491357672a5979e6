/**
 * PNG rendering of a plot through @resvg/resvg-js (a native binding).
 *
 * - The binding is imported lazily; if it cannot load (no prebuilt binary for
 *   the platform), callers get `undefined` and a reason, and write the SVG only.
 * - Text needs a font. resvg is given the machine's fonts (and an optional
 *   font file); whether any of them renders is checked once by drawing a
 *   probe glyph. If none does (bare containers often have no fonts at all,
 *   and no npm package here ships one), the plot's labels are drawn as
 *   outlines in the built-in bitmap font (bitmap-font.ts) instead, so the PNG
 *   stays readable on any machine.
 */
import * as fs from 'node:fs';
import { FONT_FAMILY } from './svg.js';

interface ResvgImage {
  asPng(): Buffer;
  readonly pixels: Buffer;
  readonly width: number;
  readonly height: number;
}
interface ResvgModule {
  Resvg: new (svg: string | Buffer, options?: Record<string, unknown>) => { render(): ResvgImage };
}

let loading: Promise<{ mod?: ResvgModule; error?: string }> | undefined;

/** The resvg module, or the reason it could not be loaded (cached). */
export function loadResvg(): Promise<{ mod?: ResvgModule; error?: string }> {
  loading ??= import('@resvg/resvg-js').then(
    (m) => {
      const mod = ((m as { default?: ResvgModule }).default?.Resvg ? (m as { default: ResvgModule }).default : m) as ResvgModule;
      return typeof mod.Resvg === 'function' ? { mod } : { error: 'the module has no Resvg class' };
    },
    (e: unknown) => ({ error: (e as Error).message.split('\n')[0] }),
  );
  return loading;
}

export interface FontChoice {
  /** A .ttf/.otf file to load besides the system fonts. */
  fontFile?: string;
  /** Load the machine's fonts (default true). */
  systemFonts?: boolean;
}

function fontOptions(f: FontChoice): Record<string, unknown> {
  const files = f.fontFile && fs.existsSync(f.fontFile) ? [f.fontFile] : [];
  return { loadSystemFonts: f.systemFonts ?? true, fontFiles: files };
}

const probeCache = new Map<string, boolean>();

/** Whether resvg draws any pixel for text with these fonts (a probe "Hg" at 20 px). */
export function fontRenders(mod: ResvgModule, f: FontChoice): boolean {
  const key = JSON.stringify(fontOptions(f));
  const hit = probeCache.get(key);
  if (hit !== undefined) return hit;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><text x="4" y="22" font-size="20" font-family="${FONT_FAMILY}" fill="#000">Hg</text></svg>`;
  let ok = false;
  try {
    const px = new mod.Resvg(svg, { font: fontOptions(f), logLevel: 'off' }).render().pixels;
    for (let i = 3; i < px.length && !ok; i += 4) if (px[i]! > 0) ok = true;
  } catch {
    ok = false;
  }
  probeCache.set(key, ok);
  return ok;
}

export type PngText = 'auto' | 'font' | 'bitmap';

export interface PngResult {
  png: Buffer;
  /** How the labels were drawn. */
  text: 'font' | 'bitmap';
  width: number;
  height: number;
  /** RGBA pixels (for checks without decoding the PNG). */
  pixels: Buffer;
}

/**
 * Render a plot to PNG. `svgWithText` uses <text> (needs a font);
 * `svgOutlined` draws text as bitmap-font outlines (needs none).
 * `scale` multiplies the pixel size (2 = sharper image for documents).
 */
export async function renderPng(
  svgWithText: string,
  svgOutlined: () => string,
  o: FontChoice & { text?: PngText; scale?: number } = {},
): Promise<{ result?: PngResult; error?: string }> {
  const { mod, error } = await loadResvg();
  if (!mod) return { error: `PNG not written: @resvg/resvg-js could not be loaded (${error})` };
  try {
    const mode = o.text ?? 'auto';
    const useFont = mode === 'font' || (mode === 'auto' && fontRenders(mod, o));
    const svg = useFont ? svgWithText : svgOutlined();
    const img = new mod.Resvg(svg, {
      font: useFont ? fontOptions(o) : { loadSystemFonts: false },
      background: '#ffffff',
      fitTo: { mode: 'zoom', value: o.scale ?? 1 },
      logLevel: 'off',
    }).render();
    return { result: { png: img.asPng(), text: useFont ? 'font' : 'bitmap', width: img.width, height: img.height, pixels: img.pixels } };
  } catch (e) {
    return { error: `PNG not written: resvg failed (${(e as Error).message.split('\n')[0]})` };
  }
}
