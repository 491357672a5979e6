/**
 * A tiny scene model (lines, paths, circles, rectangles, text, groups) and
 * its SVG serialisation. Text is written either as <text> elements (for SVG
 * viewers, which have fonts) or as outlines in the built-in bitmap font (for
 * PNG rendering on a machine without fonts).
 */
import { bitmapTextPath, bitmapTextWidth } from './bitmap-font.js';

export type Anchor = 'start' | 'middle' | 'end';

export type Shape =
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; width?: number; dash?: string; cls?: string }
  | { kind: 'path'; d: string; stroke?: string; fill?: string; width?: number; dash?: string; opacity?: number; cls?: string; data?: Record<string, string> }
  | { kind: 'circle'; cx: number; cy: number; r: number; fill: string; stroke?: string; width?: number; cls?: string }
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string; opacity?: number; stroke?: string; width?: number; cls?: string }
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor?: Anchor; rotate?: number; fill?: string; bold?: boolean; cls?: string }
  | { kind: 'group'; cls?: string; data?: Record<string, string>; children: Shape[] };

export interface Scene {
  width: number;
  height: number;
  background: string;
  shapes: Shape[];
}

export type TextMode = 'text' | 'outline';

export const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

/** Coordinates with at most two decimals (small files, stable output). */
export const num = (v: number) => String(Math.round(v * 100) / 100);

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v!)}"`)
    .join('');
}

const dataAttrs = (d?: Record<string, string>) => (d ? Object.fromEntries(Object.entries(d).map(([k, v]) => [`data-${k}`, v])) : {});

function textShape(s: Extract<Shape, { kind: 'text' }>, mode: TextMode): string {
  const transform = s.rotate ? `rotate(${num(s.rotate)} ${num(s.x)} ${num(s.y)})` : undefined;
  if (mode === 'text') {
    return `<text${attrs({
      class: s.cls,
      x: s.x,
      y: s.y,
      'font-size': s.size,
      'font-weight': s.bold ? 'bold' : undefined,
      'text-anchor': s.anchor && s.anchor !== 'start' ? s.anchor : undefined,
      fill: s.fill ?? '#222',
      transform,
    })}>${escapeXml(s.text)}</text>`;
  }
  const w = bitmapTextWidth(s.text, s.size);
  const left = s.anchor === 'middle' ? s.x - w / 2 : s.anchor === 'end' ? s.x - w : s.x;
  return `<path${attrs({ class: s.cls, d: bitmapTextPath(s.text, left, s.y, s.size), fill: s.fill ?? '#222', transform })}/>`;
}

function shapeSvg(s: Shape, mode: TextMode): string {
  switch (s.kind) {
    case 'line':
      return `<line${attrs({ class: s.cls, x1: s.x1, y1: s.y1, x2: s.x2, y2: s.y2, stroke: s.stroke, 'stroke-width': s.width ?? 1, 'stroke-dasharray': s.dash })}/>`;
    case 'path':
      return `<path${attrs({
        class: s.cls,
        ...dataAttrs(s.data),
        d: s.d,
        fill: s.fill ?? 'none',
        'fill-opacity': s.opacity,
        stroke: s.stroke,
        'stroke-width': s.stroke ? (s.width ?? 1) : undefined,
        'stroke-dasharray': s.dash,
        'stroke-linejoin': s.stroke ? 'round' : undefined,
      })}/>`;
    case 'circle':
      return `<circle${attrs({ class: s.cls, cx: s.cx, cy: s.cy, r: s.r, fill: s.fill, stroke: s.stroke, 'stroke-width': s.stroke ? (s.width ?? 1) : undefined })}/>`;
    case 'rect':
      return `<rect${attrs({ class: s.cls, x: s.x, y: s.y, width: s.w, height: s.h, fill: s.fill, 'fill-opacity': s.opacity, stroke: s.stroke, 'stroke-width': s.stroke ? (s.width ?? 1) : undefined })}/>`;
    case 'text':
      return textShape(s, mode);
    case 'group':
      return `<g${attrs({ class: s.cls, ...dataAttrs(s.data) })}>${s.children.map((c) => shapeSvg(c, mode)).join('')}</g>`;
  }
}

/** The scene as a standalone SVG document. */
export function sceneToSvg(scene: Scene, mode: TextMode = 'text'): string {
  const head = `<svg xmlns="http://www.w3.org/2000/svg"${attrs({ width: scene.width, height: scene.height, viewBox: `0 0 ${scene.width} ${scene.height}` })}${
    mode === 'text' ? attrs({ 'font-family': FONT_FAMILY }) : ''
  }>`;
  const body = scene.shapes.map((s) => shapeSvg(s, mode)).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${head}\n<rect width="100%" height="100%" fill="${scene.background}"/>\n${body}\n</svg>\n`;
}
