/**
 * Judge: grades a clip from its pixels alone, by analysis through synthesis. It knows how the world is drawn, so
 * it finds the background, light and camera whose rendering best explains the frames, subtracts that rendering to
 * find objects, tracks them, names each by matching it against rendered shapes and sprites, and classifies each
 * track's motion. `judgeClip(clip, spec)` then scores the analysis against what was asked for.
 */
import type { VideoClip } from '../media/types.js';
import { LIGHT_TINT, paintBackground } from './backgrounds.js';
import { parsePrompt } from './expand.js';
import {
  BACKGROUNDS, CAMERAS, COLOURS, COLOUR_NAMES, LIGHTINGS, MOTION_DIRECTIONS, SHAPES, SPRITES, isShape,
  type CameraMotion, type ColourName, type Lighting, type MotionType,
} from './lexicon.js';
import { backgroundCanvas, drawBackground, shapeDistance, SHAPE_GEOMETRY } from './render.js';
import { cameraAt } from './simulate.js';
import { MAX_OBJECTS, type Background, type SceneSpec } from './spec.js';
import { levelFor, sprite } from './sprites.js';

/** What the judge can tell about motion from pixels. */
export type MotionClass =
  | 'still' | 'left' | 'right' | 'up' | 'down' | 'up-left' | 'up-right' | 'down-left' | 'down-right'
  | 'fall' | 'bounce' | 'jump' | 'spin' | 'grow' | 'shrink' | 'orbit';

/** The motion class a spec's motion should be seen as. */
export function expectedMotionClass(type: MotionType, direction?: string): MotionClass {
  switch (type) {
    case 'move': case 'fly': case 'walk': case 'run': return direction as MotionClass;
    case 'rise': return 'up';
    case 'stay': return 'still';
    default: return type;
  }
}

export interface Track {
  kind: string;
  colour?: ColourName;
  motion: MotionClass;
  /** Frame indices where the object was seen, and its centre there (screen pixels). */
  frames: number[];
  centres: [number, number][];
  areas: number[];
}

export interface Analysis {
  background: Background;
  lighting: Lighting;
  camera: CameraMotion;
  tracks: Track[];
  /** Objects neither vanish nor appear except at frame edges or beside another object: 1 is perfect. */
  permanence: number;
  /** How well falling, bouncing and jumping tracks fit constant gravity: 1 is perfect, 1 also when none. */
  physics: number;
}

export interface JudgeScores {
  /** Fraction correct per attribute; NaN where the spec has nothing to check (colour of sprites only, say). */
  attributes: { kind: number; colour: number; count: number; motion: number; background: number };
  /** All attribute checks pooled. */
  accuracy: number;
  correct: number;
  checks: number;
  permanence: number;
  physics: number;
  analysis: Analysis;
}

// ---------------------------------------------------------------------------------------------------------------
// Background, light and camera

function sceneLike(clip: VideoClip, background: Background, lighting: Lighting, camera: CameraMotion): SceneSpec {
  return {
    width: clip.width, height: clip.height, fps: clip.fps, frames: clip.frames, seed: 0,
    background, lighting, camera, weather: 'clear', objects: [],
  };
}

/** Robust difference between two RGB images: large differences (objects, weather) are clipped. */
function robustError(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, pixels: number, step = 2): number {
  let sum = 0, n = 0;
  for (let i = 0; i < pixels; i += step, n++) {
    const p = aOff + i * 3, q = bOff + i * 3;
    const d = Math.abs(a[p]! - b[q]!) + Math.abs(a[p + 1]! - b[q + 1]!) + Math.abs(a[p + 2]! - b[q + 2]!);
    sum += Math.min(d, 90);
  }
  return sum / n;
}

const BACKGROUND_CANDIDATES: Background[] = [
  ...BACKGROUNDS.filter((k) => k !== 'solid').map((kind) => ({ kind })),
  ...COLOUR_NAMES.map((colour) => ({ kind: 'solid' as const, colour })),
];

function renderBackgroundFrame(spec: SceneSpec, frame: number): Uint8Array {
  const out = new Uint8Array(spec.width * spec.height * 3);
  drawBackground({ data: out, offset: 0, width: spec.width, height: spec.height }, backgroundCanvas(spec), cameraAt(spec, frame / spec.fps), Math.min(spec.width, spec.height));
  return out;
}

function findSetting(clip: VideoClip): { background: Background; lighting: Lighting; camera: CameraMotion } {
  const pixels = clip.width * clip.height;
  let best = { background: BACKGROUND_CANDIDATES[0]!, lighting: 'day' as Lighting, error: Infinity };
  // the first frame is the same for every camera, so the setting is found there
  for (const background of BACKGROUND_CANDIDATES) {
    for (const lighting of LIGHTINGS) {
      const canvas = paintBackground(background, lighting, clip.width, clip.height);
      const error = robustError(clip.data, 0, canvas.data, 0, pixels);
      if (error < best.error) best = { background, lighting, error };
    }
  }
  let camera: CameraMotion = 'still';
  if (clip.frames > 1) {
    const last = clip.frames - 1;
    let bestError = Infinity;
    for (const cam of CAMERAS) {
      const frame = renderBackgroundFrame(sceneLike(clip, best.background, best.lighting, cam), last);
      const error = robustError(clip.data, last * pixels * 3, frame, 0, pixels);
      // a still camera wins ties (a pan over a flat colour looks still)
      if (error < bestError - (cam === 'still' ? 0 : 0.5)) { bestError = error; camera = cam; }
    }
  }
  return { background: best.background, lighting: best.lighting, camera };
}

// ---------------------------------------------------------------------------------------------------------------
// Objects per frame

interface Blob {
  frame: number;
  area: number;
  cx: number;
  cy: number;
  x0: number; y0: number; x1: number; y1: number;
  touchesEdge: boolean;
}

const FOREGROUND_THRESHOLD = 60;

function foregroundMask(clip: VideoClip, frame: number, bg: Uint8Array): Uint8Array {
  const pixels = clip.width * clip.height;
  const mask = new Uint8Array(pixels);
  const off = frame * pixels * 3;
  const d = clip.data;
  for (let i = 0; i < pixels; i++) {
    const p = off + i * 3, q = i * 3;
    const diff = Math.abs(d[p]! - bg[q]!) + Math.abs(d[p + 1]! - bg[q + 1]!) + Math.abs(d[p + 2]! - bg[q + 2]!);
    mask[i] = diff > FOREGROUND_THRESHOLD ? 1 : 0;
  }
  return mask;
}

/** Grows the mask by one pixel (4-neighbourhood) so that pieces of one object split by background-like parts join. */
function dilate(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(mask);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = y * width + x;
    if (mask[i]) continue;
    if ((x > 0 && mask[i - 1]) || (x < width - 1 && mask[i + 1]) || (y > 0 && mask[i - width]) || (y < height - 1 && mask[i + width])) out[i] = 2;
  }
  return out;
}

/**
 * Connected pieces of the foreground. Pieces are joined through a dilated mask, but area, centre and bounds count
 * only the original foreground pixels.
 */
function findBlobs(mask: Uint8Array, width: number, height: number, frame: number, minArea: number): Blob[] {
  mask = dilate(mask, width, height);
  const label = new Int32Array(mask.length).fill(-1);
  const blobs: Blob[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] !== -1) continue;
    const b: Blob = { frame, area: 0, cx: 0, cy: 0, x0: width, y0: height, x1: -1, y1: -1, touchesEdge: false };
    stack.push(start);
    label[start] = blobs.length;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width, y = (i - x) / width;
      if (mask[i] === 1) {
        b.area++; b.cx += x + 0.5; b.cy += y + 0.5;
        if (x < b.x0) b.x0 = x; if (x > b.x1) b.x1 = x; if (y < b.y0) b.y0 = y; if (y > b.y1) b.y1 = y;
      }
      const push = (j: number) => { if (mask[j] && label[j] === -1) { label[j] = blobs.length; stack.push(j); } };
      if (x > 0) push(i - 1);
      if (x < width - 1) push(i + 1);
      if (y > 0) push(i - width);
      if (y < height - 1) push(i + width);
    }
    if (b.area === 0) continue;
    b.cx /= b.area; b.cy /= b.area;
    b.touchesEdge = b.x0 === 0 || b.y0 === 0 || b.x1 === width - 1 || b.y1 === height - 1;
    blobs.push(b);
    if (b.area < minArea) blobs.pop();
  }
  return blobs;
}

// ---------------------------------------------------------------------------------------------------------------
// Naming an object: compare its pixels with rendered candidates over the same background

const PATCH = 16;

/** Box-resamples an RGB region (x0..x1, y0..y1 inclusive) to PATCH x PATCH floats. */
function resampleRegion(src: Uint8Array, offset: number, width: number, b: Blob): Float32Array {
  const out = new Float32Array(PATCH * PATCH * 3);
  const w = b.x1 - b.x0 + 1, h = b.y1 - b.y0 + 1;
  for (let py = 0; py < PATCH; py++) {
    const ya = b.y0 + Math.floor((py * h) / PATCH), yb = Math.max(ya + 1, b.y0 + Math.floor(((py + 1) * h) / PATCH));
    for (let px = 0; px < PATCH; px++) {
      const xa = b.x0 + Math.floor((px * w) / PATCH), xb = Math.max(xa + 1, b.x0 + Math.floor(((px + 1) * w) / PATCH));
      let r = 0, g = 0, bl = 0, n = 0;
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) {
        const o = offset + (y * width + x) * 3;
        r += src[o]!; g += src[o + 1]!; bl += src[o + 2]!; n++;
      }
      const o = (py * PATCH + px) * 3;
      out[o] = r / n; out[o + 1] = g / n; out[o + 2] = bl / n;
    }
  }
  return out;
}

/** A candidate's look: premultiplied colour (for sprites) or coverage (for shapes), cropped to its own bounds. */
interface Template {
  kind: string;
  /** PATCH*PATCH coverage. */
  alpha: Float32Array;
  /** PATCH*PATCH*3 premultiplied colour; null for shapes (coloured at comparison time). */
  rgb: Float32Array | null;
}

const TEMPLATE_RADIUS = 24;
const templateCache = new Map<string, Template[]>();

/** Rasterises fn(x, y) -> [r, g, b, a] over [-ext, ext]^2 px, crops to alpha > 0.25, and boxes down to PATCH. */
function makeTemplate(kind: string, ext: number, fn: (x: number, y: number) => [number, number, number, number], coloured: boolean): Template {
  const side = 2 * ext;
  const img = new Float32Array(side * side * 4);
  let x0 = side, y0 = side, x1 = -1, y1 = -1;
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    const v = fn(x + 0.5 - ext, y + 0.5 - ext);
    img.set(v, (y * side + x) * 4);
    if (v[3] > 0.25) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  }
  const alpha = new Float32Array(PATCH * PATCH);
  const rgb = coloured ? new Float32Array(PATCH * PATCH * 3) : null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1;
  for (let py = 0; py < PATCH; py++) for (let px = 0; px < PATCH; px++) {
    const ya = y0 + Math.floor((py * h) / PATCH), yb = Math.max(ya + 1, y0 + Math.floor(((py + 1) * h) / PATCH));
    const xa = x0 + Math.floor((px * w) / PATCH), xb = Math.max(xa + 1, x0 + Math.floor(((px + 1) * w) / PATCH));
    let r = 0, g = 0, b = 0, a = 0, n = 0;
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) {
      const o = (y * side + x) * 4;
      r += img[o]!; g += img[o + 1]!; b += img[o + 2]!; a += img[o + 3]!; n++;
    }
    alpha[py * PATCH + px] = a / n;
    if (rgb) { rgb[(py * PATCH + px) * 3] = r / n; rgb[(py * PATCH + px) * 3 + 1] = g / n; rgb[(py * PATCH + px) * 3 + 2] = b / n; }
  }
  return { kind, alpha, rgb };
}

/** Every shape and sprite, drawn upright (and sprites mirrored), optionally also at rotations. */
function templates(lighting: Lighting, rotations: boolean): Template[] {
  const key = `${lighting}:${rotations}`;
  const hit = templateCache.get(key);
  if (hit) return hit;
  const tint = LIGHT_TINT[lighting];
  const angles = rotations ? [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260, 280, 300, 320, 340] : [0];
  const out: Template[] = [];
  const R = TEMPLATE_RADIUS;
  for (const kind of SHAPES) {
    for (const deg of angles) {
      const a = (deg * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
      const ext = Math.ceil(SHAPE_GEOMETRY[kind].outer * R + 2);
      out.push(makeTemplate(kind, ext, (x, y) => {
        const lx = (x * cos + y * sin) / R, ly = (y * cos - x * sin) / R;
        const cover = Math.min(1, Math.max(0, 0.5 - shapeDistance(kind, lx, ly) * R));
        return [0, 0, 0, cover];
      }, false));
    }
  }
  for (const s of SPRITES) {
    const level = levelFor(sprite(s.name), 2 * R);
    const side = level.side;
    for (const mirror of [false, true]) {
      for (const deg of angles) {
        const a = (deg * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
        out.push(makeTemplate(s.name, Math.ceil(R * 1.42 + 2), (x, y) => {
          const u = (mirror ? -1 : 1) * (x * cos + y * sin) * (side / (2 * R)) + side / 2 - 0.5;
          const v = (y * cos - x * sin) * (side / (2 * R)) + side / 2 - 0.5;
          const iu = Math.round(u), iv = Math.round(v);
          if (iu < 0 || iv < 0 || iu >= side || iv >= side) return [0, 0, 0, 0];
          const o = (iv * side + iu) * 4;
          return [level.rgba[o]! * tint[0], level.rgba[o + 1]! * tint[1], level.rgba[o + 2]! * tint[2], level.rgba[o + 3]!];
        }, true));
      }
    }
  }
  templateCache.set(key, out);
  return out;
}

interface Sighting {
  kind: string;
  error: number;
  /** Flat colour of the object, untinted, for shapes. */
  colour: [number, number, number];
}

/** The colour of an object's pixels that differ most clearly from the background. */
function objectColour(actual: Float32Array, bg: Float32Array): [number, number, number] {
  const samples: [number, number, number][] = [];
  for (let i = 0; i < PATCH * PATCH; i++) {
    const d = Math.abs(actual[i * 3]! - bg[i * 3]!) + Math.abs(actual[i * 3 + 1]! - bg[i * 3 + 1]!) + Math.abs(actual[i * 3 + 2]! - bg[i * 3 + 2]!);
    if (d > 90) samples.push([actual[i * 3]!, actual[i * 3 + 1]!, actual[i * 3 + 2]!]);
  }
  if (samples.length === 0) return [128, 128, 128];
  const median = (c: number) => samples.map((s) => s[c]!).sort((a, b) => a - b)[samples.length >> 1]!;
  return [median(0), median(1), median(2)];
}

/** Mean deviation from the median colour over the object's interior: about 0 for flat shapes, more for sprites. */
function colourSpread(actual: Float32Array, bg: Float32Array, colour: readonly number[]): number {
  const inside = (i: number) =>
    Math.abs(actual[i * 3]! - bg[i * 3]!) + Math.abs(actual[i * 3 + 1]! - bg[i * 3 + 1]!) + Math.abs(actual[i * 3 + 2]! - bg[i * 3 + 2]!) > 90;
  let sum = 0, n = 0;
  for (let y = 1; y < PATCH - 1; y++) for (let x = 1; x < PATCH - 1; x++) {
    const i = y * PATCH + x;
    if (!inside(i) || !inside(i - 1) || !inside(i + 1) || !inside(i - PATCH) || !inside(i + PATCH)) continue;
    sum += Math.abs(actual[i * 3]! - colour[0]!) + Math.abs(actual[i * 3 + 1]! - colour[1]!) + Math.abs(actual[i * 3 + 2]! - colour[2]!);
    n++;
  }
  return n ? sum / n : 0;
}

/** L1 error of a template composited over the background, shifted by (dx, dy) patch pixels; stops past `limit`. */
function templateError(t: Template, actual: Float32Array, bg: Float32Array, colour: readonly number[], dx: number, dy: number, limit: number): number {
  let error = 0;
  for (let y = 0; y < PATCH; y++) {
    const ty = Math.min(PATCH - 1, Math.max(0, y - dy));
    for (let x = 0; x < PATCH; x++) {
      const tx = Math.min(PATCH - 1, Math.max(0, x - dx));
      const j = ty * PATCH + tx, i = y * PATCH + x;
      const a = t.alpha[j]!;
      for (let c = 0; c < 3; c++) {
        const fg = t.rgb ? t.rgb[j * 3 + c]! : colour[c]! * a;
        error += Math.abs(fg + bg[i * 3 + c]! * (1 - a) - actual[i * 3 + c]!);
      }
    }
    if (error > limit) return error;
  }
  return error;
}

/** Names an object: flat ones are compared with shapes, textured ones with sprites. */
function identify(actual: Float32Array, bg: Float32Array, lighting: Lighting, rotations: boolean): Sighting {
  const colour = objectColour(actual, bg);
  const spread = colourSpread(actual, bg, colour);
  const candidates = templates(lighting, rotations).filter((t) => (spread < 6 ? !t.rgb : spread > 14 ? !!t.rgb : true));
  const scored = candidates.map((t) => ({ t, error: templateError(t, actual, bg, colour, 0, 0, Infinity) })).sort((a, b) => a.error - b.error);
  const best = { kind: scored[0]?.t.kind ?? 'circle', error: scored[0]?.error ?? Infinity };
  const tint = LIGHT_TINT[lighting];
  return { kind: best.kind, error: best.error, colour: [colour[0] / tint[0], colour[1] / tint[1], colour[2] / tint[2]] };
}

export function nearestColour(rgb: readonly number[]): ColourName {
  let best: ColourName = 'red', bestD = Infinity;
  for (const name of COLOUR_NAMES) {
    const c = COLOURS[name];
    const d = (rgb[0]! - c[0]) ** 2 + (rgb[1]! - c[1]) ** 2 + (rgb[2]! - c[2]) ** 2;
    if (d < bestD) { bestD = d; best = name; }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Tracking and motion

interface RawTrack {
  blobs: Blob[];
  missed: number;
}

function link(blobsPerFrame: Blob[][], unit: number): RawTrack[] {
  const done: RawTrack[] = [];
  let live: RawTrack[] = [];
  const maxJump = 0.22 * unit;
  for (const blobs of blobsPerFrame) {
    const taken = new Set<Blob>();
    // nearest pairs first, so two objects side by side keep their own tracks
    const pairs: [number, RawTrack, Blob][] = [];
    for (const t of live) {
      const last = t.blobs[t.blobs.length - 1]!;
      const prev = t.blobs.length > 1 ? t.blobs[t.blobs.length - 2]! : last;
      const steps = t.missed + 1;
      const px = last.cx + ((last.cx - prev.cx) / Math.max(1, last.frame - prev.frame)) * steps;
      const py = last.cy + ((last.cy - prev.cy) / Math.max(1, last.frame - prev.frame)) * steps;
      for (const b of blobs) {
        const d = Math.hypot(b.cx - px, b.cy - py) + Math.abs(Math.sqrt(b.area) - Math.sqrt(last.area)) * 0.5;
        if (d < maxJump * steps) pairs.push([d, t, b]);
      }
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const matched = new Set<RawTrack>();
    for (const [, t, b] of pairs) {
      if (matched.has(t) || taken.has(b)) continue;
      t.blobs.push(b); t.missed = 0;
      matched.add(t); taken.add(b);
    }
    const next: RawTrack[] = [];
    for (const t of live) {
      if (matched.has(t)) next.push(t);
      else if (++t.missed <= 4) next.push(t);
      else done.push(t);
    }
    for (const b of blobs) if (!taken.has(b)) next.push({ blobs: [b], missed: 0 });
    live = next;
  }
  return [...done, ...live];
}

const DIRECTION_SECTORS: MotionClass[] = ['right', 'down-right', 'down', 'down-left', 'left', 'up-left', 'up', 'up-right'];

function classifyMotion(points: [number, number][], areas: number[], masks: Float32Array[], unit: number): MotionClass {
  const n = points.length;
  if (n < 3) return 'still';
  const head = (k: number) => areas.slice(0, k).sort((a, b) => a - b)[k >> 1]!;
  const tail = (k: number) => areas.slice(-k).sort((a, b) => a - b)[k >> 1]!;
  const k = Math.min(3, Math.floor(n / 2));
  const growth = tail(k) / head(k);
  if (growth > 1.45) return 'grow';
  if (growth < 0.68) return 'shrink';
  const xs = points.map((p) => p[0] / unit), ys = points.map((p) => p[1] / unit);
  const span = Math.max(...points.map((p) => Math.hypot(p[0] - points[0]![0], p[1] - points[0]![1]))) / unit;
  // orbit: the direction of travel keeps turning one way
  let turn = 0, path = 0;
  const turns: number[] = [];
  for (let i = 2; i < n; i++) {
    const a1 = Math.atan2(ys[i - 1]! - ys[i - 2]!, xs[i - 1]! - xs[i - 2]!);
    const a2 = Math.atan2(ys[i]! - ys[i - 1]!, xs[i]! - xs[i - 1]!);
    let d = a2 - a1;
    while (d > Math.PI) d -= 2 * Math.PI;
    while (d < -Math.PI) d += 2 * Math.PI;
    if (Math.hypot(xs[i]! - xs[i - 1]!, ys[i]! - ys[i - 1]!) > 0.004) { turn += d; turns.push(d); }
  }
  const turning = turns.length;
  const sameWay = Math.max(turns.filter((d) => d > 0).length, turns.filter((d) => d < 0).length);
  for (let i = 1; i < n; i++) path += Math.hypot(xs[i]! - xs[i - 1]!, ys[i]! - ys[i - 1]!);
  if (Math.abs(turn) > 2.5 && path > 0.25 && span < 0.6 * path && sameWay / Math.max(1, turning) > 0.7) return 'orbit';
  // vertical arcs: a turn from rising to falling (jump) or from falling to rising at the floor (bounce)
  const vy = ys.slice(1).map((y, i) => y - ys[i]!);
  const eps = 0.006;
  const firstMove = vy.find((v) => Math.abs(v) > eps) ?? 0;
  const rises = vy.some((v) => v < -eps), falls = vy.some((v) => v > eps);
  const dx = xs[n - 1]! - xs[0]!;
  if (rises && falls) {
    const verticalTravel = vy.reduce((s, v) => s + Math.abs(v), 0);
    if (verticalTravel > 0.2 && verticalTravel > 2 * Math.abs(dx)) return firstMove < 0 ? 'jump' : 'bounce';
  }
  // a fall speeds up; a move downward keeps its speed
  if (falls && !rises && ys[n - 1]! - ys[0]! > 0.15) {
    const third = Math.max(1, Math.floor(vy.length / 3));
    const early = vy.slice(0, third).reduce((s, v) => s + v, 0) / third;
    const peak = Math.max(...vy);
    if (peak > 1.8 * early + 0.02 && Math.abs(dx) < 0.3 * (ys[n - 1]! - ys[0]!)) return 'fall';
  }
  if (span > 0.08) {
    // direction of travel over the first half, before walls and other objects turn it
    const m = Math.max(2, Math.ceil(n / 2));
    const ddx = xs[m - 1]! - xs[0]!, ddy = ys[m - 1]! - ys[0]!;
    const sector = Math.round(Math.atan2(ddy, ddx) / (Math.PI / 4));
    return DIRECTION_SECTORS[(sector + 8) % 8]!;
  }
  // spinning: the outline changes from frame to frame while the centre stays
  let change = 0;
  for (let i = 1; i < masks.length; i++) {
    let d = 0;
    for (let j = 0; j < masks[i]!.length; j++) d += Math.abs(masks[i]![j]! - masks[i - 1]![j]!);
    change += d / masks[i]!.length;
  }
  if (masks.length > 1 && change / (masks.length - 1) > 0.09) return 'spin';
  return 'still';
}

// ---------------------------------------------------------------------------------------------------------------

/** Reads a clip back: setting, camera, and every object's identity and motion. */
export function analyseClip(clip: VideoClip): Analysis {
  const { width, height, frames } = clip;
  const unit = Math.min(width, height);
  const pixels = width * height;
  const setting = findSetting(clip);
  const scene = sceneLike(clip, setting.background, setting.lighting, setting.camera);
  const minArea = Math.max(6, 10 * (unit / 64) ** 2);
  const bgFrames: Uint8Array[] = [];
  const blobsPerFrame: Blob[][] = [];
  for (let f = 0; f < frames; f++) {
    const bg = renderBackgroundFrame(scene, f);
    bgFrames.push(bg);
    blobsPerFrame.push(findBlobs(foregroundMask(clip, f, bg), width, height, f, minArea));
  }
  const raw = link(blobsPerFrame, unit).filter((t) => t.blobs.length >= Math.max(1, Math.ceil(frames * 0.4)));

  const tracks: Track[] = [];
  let violations = 0;
  let physicsScore = 0, physicsCount = 0;
  for (const t of raw) {
    const cams = t.blobs.map((b) => cameraAt(scene, b.frame / clip.fps));
    // world-frame centres (the camera's pan and zoom undone) and areas
    const points = t.blobs.map((b, i): [number, number] => [
      (b.cx - width / 2) / cams[i]!.zoom + width / 2 + cams[i]!.offsetX * unit,
      (b.cy - height / 2) / cams[i]!.zoom + height / 2,
    ]);
    const areas = t.blobs.map((b, i) => b.area / cams[i]!.zoom ** 2);
    const medianArea = [...areas].sort((a, b) => a - b)[areas.length >> 1]!;
    // name it from its cleanest sightings: whole (not at an edge), not merged with a neighbour
    const clean = t.blobs.filter((b) => !b.touchesEdge && b.area < medianArea * 1.5 * cams[t.blobs.indexOf(b)]!.zoom ** 2);
    const chosen = (clean.length ? clean : t.blobs).filter((_, i, arr) => arr.length <= 5 || i % Math.ceil(arr.length / 5) === 0);
    const masks: Float32Array[] = [];
    const sightings: Sighting[] = [];
    for (const b of t.blobs) {
      const actual = resampleRegion(clip.data, b.frame * pixels * 3, width, b);
      const bgPatch = resampleRegion(bgFrames[b.frame]!, 0, width, b);
      masks.push(maskOf(actual, bgPatch));
      if (chosen.includes(b)) sightings.push(identify(actual, bgPatch, setting.lighting, false));
    }
    const motion = classifyMotion(points, areas, masks, unit);
    // a spinning object is named again against rotated pictures
    const named = motion === 'spin'
      ? chosen.map((b) => identify(resampleRegion(clip.data, b.frame * pixels * 3, width, b), resampleRegion(bgFrames[b.frame]!, 0, width, b), setting.lighting, true))
      : sightings;
    const votes = new Map<string, number>();
    for (const s of named) votes.set(s.kind, (votes.get(s.kind) ?? 0) + 1 / (1 + s.error / 5000));
    const kind = [...votes].sort((a, b) => b[1] - a[1])[0]![0];
    const track: Track = { kind, motion, frames: t.blobs.map((b) => b.frame), centres: t.blobs.map((b) => [b.cx, b.cy]), areas };
    if (isShape(kind)) {
      const cols = named.filter((s) => s.kind === kind).map((s) => nearestColour(s.colour));
      const counts = new Map<ColourName, number>();
      for (const c of cols) counts.set(c, (counts.get(c) ?? 0) + 1);
      track.colour = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    }
    tracks.push(track);
    violations += permanenceViolations(t, blobsPerFrame, frames);
    if (motion === 'fall' || motion === 'bounce' || motion === 'jump') {
      physicsScore += gravityFit(points.map((p) => p[1] / unit), t.blobs.map((b) => b.frame / clip.fps));
      physicsCount++;
    }
  }
  return {
    ...setting,
    tracks,
    permanence: tracks.length ? Math.max(0, 1 - violations / tracks.length) : 1,
    physics: physicsCount ? physicsScore / physicsCount : 1,
  };
}

function maskOf(actual: Float32Array, bg: Float32Array): Float32Array {
  const mask = new Float32Array(PATCH * PATCH);
  for (let i = 0; i < PATCH * PATCH; i++) {
    const d = Math.abs(actual[i * 3]! - bg[i * 3]!) + Math.abs(actual[i * 3 + 1]! - bg[i * 3 + 1]!) + Math.abs(actual[i * 3 + 2]! - bg[i * 3 + 2]!);
    mask[i] = Math.min(1, d / 120);
  }
  return mask;
}

/** Appearing late, vanishing early or gaps, each excused at a frame edge or beside another object. */
function permanenceViolations(t: RawTrack, blobsPerFrame: Blob[][], frames: number): number {
  const excused = (b: Blob) => b.touchesEdge || blobsPerFrame[b.frame]!.some((o) => o !== b && Math.hypot(o.cx - b.cx, o.cy - b.cy) < 1.5 * (Math.sqrt(o.area) + Math.sqrt(b.area)));
  let v = 0;
  const first = t.blobs[0]!, last = t.blobs[t.blobs.length - 1]!;
  if (first.frame > 0 && !excused(first)) v++;
  if (last.frame < frames - 1 && !excused(last)) v++;
  for (let i = 1; i < t.blobs.length; i++) {
    if (t.blobs[i]!.frame - t.blobs[i - 1]!.frame > 1 && !excused(t.blobs[i - 1]!) && !excused(t.blobs[i]!)) v++;
  }
  return v;
}

/**
 * Plausibility of a vertical path under constant gravity: each airborne stretch (between floor contacts) is fit
 * with a parabola; the score falls with the fit's error and with disagreement between stretches' accelerations.
 */
function gravityFit(ys: number[], ts: number[]): number {
  const segments: [number[], number[]][] = [];
  let cur: [number[], number[]] = [[], []];
  for (let i = 0; i < ys.length; i++) {
    cur[0].push(ts[i]!); cur[1].push(ys[i]!);
    const bouncesHere = i > 0 && i < ys.length - 1 && ys[i]! > ys[i - 1]! && ys[i]! > ys[i + 1]!;
    if (bouncesHere) { segments.push(cur); cur = [[ts[i]!], [ys[i]!]]; }
  }
  segments.push(cur);
  const accels: number[] = [];
  let residual = 0, count = 0;
  for (const [t, y] of segments) {
    if (t.length < 4) continue;
    const fit = fitParabola(t, y);
    accels.push(2 * fit.a);
    residual += fit.rms; count++;
  }
  if (!count) return 1;
  const meanA = accels.reduce((s, a) => s + a, 0) / accels.length;
  const spread = accels.length > 1 ? Math.sqrt(accels.reduce((s, a) => s + (a - meanA) ** 2, 0) / accels.length) / Math.abs(meanA) : 0;
  const fitScore = Math.exp(-(residual / count) / 0.01);
  return meanA > 0 ? fitScore * Math.exp(-spread) : 0;
}

/** Least-squares y = a t^2 + b t + c. */
function fitParabola(t: number[], y: number[]): { a: number; rms: number } {
  const n = t.length;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, r0 = 0, r1 = 0, r2 = 0;
  for (let i = 0; i < n; i++) {
    const x = t[i]! - t[0]!, x2 = x * x;
    s0 += 1; s1 += x; s2 += x2; s3 += x2 * x; s4 += x2 * x2;
    r0 += y[i]!; r1 += x * y[i]!; r2 += x2 * y[i]!;
  }
  // solve the 3x3 normal equations by Cramer's rule
  const det = (m: number[]) => m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const M = [s4, s3, s2, s3, s2, s1, s2, s1, s0];
  const D = det(M);
  if (Math.abs(D) < 1e-12) return { a: 0, rms: 0 };
  const a = det([r2, s3, s2, r1, s2, s1, r0, s1, s0]) / D;
  const b = det([s4, r2, s2, s3, r1, s1, s2, r0, s0]) / D;
  const c = det([s4, s3, r2, s3, s2, r1, s2, s1, r0]) / D;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = t[i]! - t[0]!;
    sq += (a * x * x + b * x + c - y[i]!) ** 2;
  }
  return { a, rms: Math.sqrt(sq / n) };
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

/** What a clip was asked to show; fields left out are not checked. */
export interface Expectation {
  background?: Background;
  objects: { kind?: string; colour?: ColourName; motion?: MotionClass }[];
}

export function expectationOf(spec: SceneSpec): Expectation {
  return {
    background: spec.background,
    objects: spec.objects.map((o) => ({ kind: o.kind, colour: o.colour, motion: expectedMotionClass(o.motion.type, o.motion.direction) })),
  };
}

/** Grades an analysis against an expectation: per-attribute accuracy, with objects matched to tracks first. */
export function score(analysis: Analysis, expected: Expectation, frames: number): JudgeScores {
  const tally = { kind: [0, 0], colour: [0, 0], count: [0, 0], motion: [0, 0], background: [0, 0] };
  const bg = expected.background;
  if (bg) {
    const ok = analysis.background.kind === bg.kind && (bg.kind !== 'solid' || analysis.background.colour === bg.colour);
    tally.background = [ok ? 1 : 0, 1];
  }
  tally.count = [analysis.tracks.length === expected.objects.length ? 1 : 0, 1];
  const motionChecked = frames >= 3;
  // match each asked-for object to the most similar unclaimed track
  const pairs: [number, number, number][] = [];
  expected.objects.forEach((e, i) => analysis.tracks.forEach((t, j) => {
    const cost = (e.kind && t.kind !== e.kind ? 1 : 0) + (e.colour && t.colour !== e.colour ? 0.5 : 0) + (e.motion && t.motion !== e.motion ? 0.3 : 0);
    pairs.push([cost, i, j]);
  }));
  pairs.sort((a, b) => a[0] - b[0]);
  const usedE = new Set<number>(), usedT = new Set<number>();
  const match = new Map<number, Track>();
  for (const [, i, j] of pairs) {
    if (usedE.has(i) || usedT.has(j)) continue;
    usedE.add(i); usedT.add(j);
    match.set(i, analysis.tracks[j]!);
  }
  expected.objects.forEach((e, i) => {
    const t = match.get(i);
    if (e.kind) { tally.kind[0]! += t && t.kind === e.kind ? 1 : 0; tally.kind[1]!++; }
    if (e.colour) { tally.colour[0]! += t && t.colour === e.colour ? 1 : 0; tally.colour[1]!++; }
    if (e.motion && motionChecked) { tally.motion[0]! += t && t.motion === e.motion ? 1 : 0; tally.motion[1]!++; }
  });
  const rate = ([c, n]: number[]) => (n ? c! / n : NaN);
  const correct = Object.values(tally).reduce((s, [c]) => s + c!, 0);
  const checks = Object.values(tally).reduce((s, [, n]) => s + n!, 0);
  return {
    attributes: { kind: rate(tally.kind), colour: rate(tally.colour), count: rate(tally.count), motion: rate(tally.motion), background: rate(tally.background) },
    accuracy: correct / checks, correct, checks,
    permanence: analysis.permanence, physics: analysis.physics, analysis,
  };
}

/** Grades a clip against the spec it was asked to show. */
export function judgeClip(clip: VideoClip, spec: SceneSpec, analysis: Analysis = analyseClip(clip)): JudgeScores {
  return score(analysis, expectationOf(spec), clip.frames);
}

/**
 * Grades a clip against a prompt: only what the prompt states is checked (a prompt that names no colour is not
 * marked down for any colour). Counts are checked as the prompt gives them.
 */
export function judgeAgainstPrompt(clip: VideoClip, prompt: string): JudgeScores & { unknownWords: string[] } {
  const parsed = parsePrompt(prompt);
  const objects: Expectation['objects'] = [];
  for (const e of parsed.entities) {
    // a directional motion without a direction ("a dog walks") cannot be checked beyond being named
    const motion = e.motion && (e.direction || !MOTION_DIRECTIONS[e.motion]) ? expectedMotionClass(e.motion, e.direction) : undefined;
    for (let k = 0; k < e.count && objects.length < MAX_OBJECTS; k++) objects.push({ kind: e.kind, colour: e.colour, motion });
  }
  const expectation: Expectation = { background: parsed.background, objects };
  return { ...score(analyseClip(clip), expectation, clip.frames), unknownWords: [...new Set(parsed.unknown)] };
}
