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
import { backgroundCanvas, drawBackground, objectStamp } from './render.js';
import { cameraAt } from './simulate.js';
import { MAX_OBJECTS, type Background, type SceneSpec } from './spec.js';

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
// Objects per frame: what differs from the background, cleaned of weather, in connected pieces joined by proximity

interface Blob {
  frame: number;
  area: number;
  cx: number;
  cy: number;
  x0: number; y0: number; x1: number; y1: number;
  touchesEdge: boolean;
}

/** Sum of absolute RGB differences from the background above which a pixel belongs to something in front of it. */
const FOREGROUND_THRESHOLD = 60;

function foregroundMask(clip: VideoClip, frame: number, bg: Uint8Array): Uint8Array {
  const pixels = clip.width * clip.height;
  const mask = new Uint8Array(pixels);
  const off = frame * pixels * 3;
  const d = clip.data;
  for (let i = 0, p = off, q = 0; i < pixels; i++, p += 3, q += 3) {
    const diff = Math.abs(d[p]! - bg[q]!) + Math.abs(d[p + 1]! - bg[q + 1]!) + Math.abs(d[p + 2]! - bg[q + 2]!);
    mask[i] = diff > FOREGROUND_THRESHOLD ? 1 : 0;
  }
  return mask;
}

/**
 * Morphological opening with a k x k square (k odd): removes rain streaks and snow flakes, which are thinner than
 * k, and keeps objects, which are far thicker. Outside the frame counts as foreground so edges do not erode objects.
 */
function openMask(mask: Uint8Array, width: number, height: number, k: number): Uint8Array {
  const h = k >> 1;
  const pass = (src: Uint8Array, keepIfAll: boolean, horizontal: boolean): Uint8Array => {
    const out = new Uint8Array(src.length);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let all = 1, any = 0;
      for (let d = -h; d <= h; d++) {
        const xx = horizontal ? x + d : x, yy = horizontal ? y : y + d;
        const v = xx < 0 || yy < 0 || xx >= width || yy >= height ? (keepIfAll ? 1 : 0) : src[yy * width + xx]!;
        all &= v; any |= v;
      }
      out[y * width + x] = keepIfAll ? all : any;
    }
    return out;
  };
  const eroded = pass(pass(mask, true, true), true, false);
  return pass(pass(eroded, false, true), false, false);
}

/** Labels the 8-connected components of a mask: label per pixel (-1 off the mask) and the number of components. */
function components(mask: Uint8Array, width: number, height: number): { label: Int32Array; count: number } {
  const label = new Int32Array(mask.length).fill(-1);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] !== -1) continue;
    label[start] = count;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width, y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const j = yy * width + xx;
        if (mask[j] && label[j] === -1) { label[j] = count; stack.push(j); }
      }
    }
    count++;
  }
  return { label, count };
}

/** The mask grown by `steps` pixels (8-neighbourhood). */
function grow(mask: Uint8Array, width: number, height: number, steps: number): Uint8Array {
  let out = mask;
  for (let k = 0; k < steps; k++) {
    const src = out;
    out = new Uint8Array(src);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      if (src[y * width + x]) continue;
      search: for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < width && yy < height && src[yy * width + xx]) { out[y * width + x] = 1; break search; }
      }
    }
  }
  return out;
}

/**
 * Objects in one frame. The opened mask says where objects are: its pieces less than `join` pixels apart (parts
 * of one sprite split by parts that match the background) are one object, and objects too small are weather. Each
 * object then takes back every piece of the full mask that touches it (thin parts the opening cut away), and its
 * area, centre and bounds count those pixels.
 */
function findBlobs(raw: Uint8Array, opened: Uint8Array, width: number, height: number, frame: number, join: number, minArea: number): Blob[] {
  const objects = components(grow(opened, width, height, Math.floor(join / 2)), width, height);
  const openedArea = new Float64Array(objects.count);
  for (let i = 0; i < opened.length; i++) if (opened[i]) openedArea[objects.label[i]!]++;
  // each piece of the full mask joins the object it overlaps most
  const pieces = components(raw, width, height);
  const votes = new Map<number, Map<number, number>>();
  for (let i = 0; i < raw.length; i++) {
    const piece = pieces.label[i]!, object = objects.label[i]!;
    if (piece < 0 || object < 0) continue;
    const v = votes.get(piece) ?? new Map<number, number>();
    v.set(object, (v.get(object) ?? 0) + 1);
    votes.set(piece, v);
  }
  const owner = new Int32Array(pieces.count).fill(-1);
  for (const [piece, v] of votes) owner[piece] = [...v].sort((a, b) => b[1] - a[1])[0]![0];
  const blobs: Blob[] = Array.from({ length: objects.count }, () => ({ frame, area: 0, cx: 0, cy: 0, x0: width, y0: height, x1: -1, y1: -1, touchesEdge: false }));
  for (let i = 0; i < raw.length; i++) {
    if (!raw[i]) continue;
    const o = owner[pieces.label[i]!]!;
    if (o < 0) continue;
    const b = blobs[o]!, x = i % width, y = (i - x) / width;
    b.area++; b.cx += x + 0.5; b.cy += y + 0.5;
    if (x < b.x0) b.x0 = x; if (x > b.x1) b.x1 = x; if (y < b.y0) b.y0 = y; if (y > b.y1) b.y1 = y;
  }
  return blobs.filter((b, o) => {
    if (openedArea[o]! < minArea || b.area === 0) return false;
    b.cx /= b.area; b.cy /= b.area;
    b.touchesEdge = b.x0 === 0 || b.y0 === 0 || b.x1 === width - 1 || b.y1 === height - 1;
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Naming an object by synthesis: draw each candidate exactly as the renderer would, over the known background,
// at the pose the blob suggests, refine the pose, and keep the candidate that explains the pixels best

interface Candidate {
  kind: string;
  mirror: boolean;
  /** Coverage area in units of radius^2, and coverage centroid in units of radius (at angle 0). */
  area: number;
  centroidX: number;
  centroidY: number;
  /** Bounds of the half-covered pixels, in units of radius from the centre. */
  left: number; right: number; top: number; bottom: number;
}

let candidateList: Candidate[] | null = null;
/** Trial stamps are drawn here, one at a time (grown on demand). */
const scratch = new Float32Array(4 * 192 * 192);

function candidates(): Candidate[] {
  if (candidateList) return candidateList;
  const R = 32;
  const list: Candidate[] = [];
  const measure = (kind: string, mirror: boolean) => {
    const { stamp, ix, iy } = objectStamp(kind, [255, 255, 255], [1, 1, 1], 0, 0, R, 0, mirror, scratch);
    let a = 0, sx = 0, sy = 0, left = Infinity, right = -Infinity, top = Infinity, bottom = -Infinity;
    for (let y = 0; y < stamp.side; y++) for (let x = 0; x < stamp.side; x++) {
      const w = stamp.rgba[(y * stamp.side + x) * 4 + 3]!;
      const px = x - stamp.pad + ix, py = y - stamp.pad + iy;
      a += w; sx += w * (px + 0.5); sy += w * (py + 0.5);
      if (w >= 0.5) { left = Math.min(left, px); right = Math.max(right, px + 1); top = Math.min(top, py); bottom = Math.max(bottom, py + 1); }
    }
    list.push({ kind, mirror, area: a / (R * R), centroidX: sx / a / R, centroidY: sy / a / R, left: left / R, right: right / R, top: top / R, bottom: bottom / R });
  };
  for (const kind of SHAPES) measure(kind, false);
  for (const s of SPRITES) { measure(s.name, false); measure(s.name, true); }
  candidateList = list;
  return list;
}

/** One frame of one object, with what is needed to try candidates against it. */
interface View {
  frame: Uint8Array;
  offset: number;
  bg: Uint8Array;
  width: number;
  height: number;
  blob: Blob;
  /** Measured flat colour (as seen, light included): what a shape candidate is painted with. */
  colour: Rgb;
  tint: Rgb;
}

type Rgb = readonly [number, number, number];

/** Per-pixel error cap, so a snow flake or rain streak over an object costs no more than one wrong pixel. */
const PIXEL_ERROR_CAP = 150;

/**
 * How badly a candidate at a pose explains the view: the change in capped L1 error, over the candidate's pixels,
 * from the bare background to the candidate composited over it (lower is better; comparable across candidates).
 */
function poseError(v: View, kind: string, mirror: boolean, cx: number, cy: number, radius: number, angle: number): number {
  const { stamp, ix, iy } = objectStamp(kind, v.colour, v.tint, cx, cy, radius, angle, mirror, scratch);
  const { side, pad, rgba } = stamp;
  const x0 = Math.max(0, ix - pad), x1 = Math.min(v.width, ix - pad + side);
  const y0 = Math.max(0, iy - pad), y1 = Math.min(v.height, iy - pad + side);
  let delta = 0;
  for (let y = y0; y < y1; y++) {
    let s = ((y - iy + pad) * side + (x0 - ix + pad)) * 4;
    let q = (y * v.width + x0) * 3;
    for (let x = x0; x < x1; x++, s += 4, q += 3) {
      const a = rgba[s + 3]!;
      if (a <= 0.002) continue;
      const p = v.offset + q;
      const r = v.frame[p]!, g = v.frame[p + 1]!, b = v.frame[p + 2]!;
      const br = v.bg[q]!, bgG = v.bg[q + 1]!, bb = v.bg[q + 2]!;
      const before = Math.min(PIXEL_ERROR_CAP, Math.abs(br - r) + Math.abs(bgG - g) + Math.abs(bb - b));
      const keep = 1 - a;
      const after = Math.min(PIXEL_ERROR_CAP, Math.abs(br * keep + rgba[s]! - r) + Math.abs(bgG * keep + rgba[s + 1]! - g) + Math.abs(bb * keep + rgba[s + 2]! - b));
      delta += after - before;
    }
  }
  return delta;
}

interface Pose2 { cx: number; cy: number; radius: number; angle: number }

/** Coordinate descent on centre, radius and (for spinning objects) angle, with shrinking steps. */
function refinePose(v: View, c: Candidate, start: Pose2, error: number, rotate: boolean): { pose: Pose2; error: number } {
  let pose = start, best = error;
  let step = 0.5, scale = 0.06, turn = 0.2;
  for (let level = 0; level < 3; level++) {
    for (let improved = true, rounds = 0; improved && rounds < 4; rounds++) {
      improved = false;
      const trials: Pose2[] = [
        { ...pose, cx: pose.cx + step }, { ...pose, cx: pose.cx - step }, { ...pose, cy: pose.cy + step }, { ...pose, cy: pose.cy - step },
        { ...pose, radius: pose.radius * (1 + scale) }, { ...pose, radius: pose.radius / (1 + scale) },
      ];
      if (rotate) trials.push({ ...pose, angle: pose.angle + turn }, { ...pose, angle: pose.angle - turn });
      for (const t of trials) {
        const e = poseError(v, c.kind, c.mirror, t.cx, t.cy, t.radius, t.angle);
        if (e < best) { best = e; pose = t; improved = true; }
      }
    }
    step /= 2; scale /= 2; turn /= 2;
  }
  return { pose, error: best };
}

interface Fit { c: Candidate; pose: Pose2; error: number }

/** The best fit of every kind to one view (kinds not refined keep their first, coarse fit), best first. */
function nameView(v: View, rotate: boolean): Fit[] {
  const b = v.blob;
  const angles = rotate ? Array.from({ length: 12 }, (_, k) => (k * Math.PI) / 6) : [0];
  const bestOfKind = new Map<string, Fit>();
  for (const c of candidates()) {
    // two guesses at its pose, from the blob's area and centroid and from its bounds, and one between them
    const byArea = Math.sqrt(b.area / c.area);
    const byBounds = Math.max((b.x1 + 1 - b.x0) / (c.right - c.left), (b.y1 + 1 - b.y0) / (c.bottom - c.top));
    const areaPose = [b.cx - c.centroidX * byArea, b.cy - c.centroidY * byArea, byArea] as const;
    const boundsPose = [(b.x0 + b.x1 + 1) / 2 - ((c.left + c.right) / 2) * byBounds, (b.y0 + b.y1 + 1) / 2 - ((c.top + c.bottom) / 2) * byBounds, byBounds] as const;
    const between = [0, 1, 2].map((k) => (areaPose[k]! + boundsPose[k]!) / 2);
    for (const [cx, cy, radius] of [areaPose, boundsPose, between] as const) {
      for (const angle of angles) {
        const error = poseError(v, c.kind, c.mirror, cx, cy, radius, angle);
        const held = bestOfKind.get(c.kind);
        if (!held || error < held.error) bestOfKind.set(c.kind, { c, pose: { cx, cy, radius, angle }, error });
      }
    }
  }
  const fits = [...bestOfKind.values()].sort((a, b) => a.error - b.error);
  for (let i = 0; i < Math.min(5, fits.length); i++) {
    const f = fits[i]!;
    const r = refinePose(v, f.c, f.pose, f.error, rotate);
    fits[i] = { c: f.c, pose: r.pose, error: r.error };
  }
  return fits.sort((a, b) => a.error - b.error);
}

/**
 * Whether an object that stays in place turns: at a few later frames, the named candidate fitted upright is
 * compared with the best fit at any angle; turning wins when it explains clearly more of the pixels.
 */
function turnsInPlace(views: View[], fit: Fit, zoomOf: (frame: number) => number, firstFrame: number): boolean {
  let votes = 0;
  for (const v of views) {
    const b = v.blob;
    const radius = fit.pose.radius * zoomOf(b.frame) / zoomOf(firstFrame);
    const start: Pose2 = { cx: b.cx - fit.c.centroidX * radius, cy: b.cy - fit.c.centroidY * radius, radius, angle: 0 };
    const upright = refinePose(v, fit.c, start, poseError(v, fit.c.kind, fit.c.mirror, start.cx, start.cy, radius, 0), false);
    let turned = upright;
    for (let k = 1; k < 12; k++) {
      const pose = { ...upright.pose, angle: (k * Math.PI) / 6 };
      const error = poseError(v, fit.c.kind, fit.c.mirror, pose.cx, pose.cy, pose.radius, pose.angle);
      if (error < turned.error) turned = { pose, error };
    }
    turned = refinePose(v, fit.c, turned.pose, turned.error, true);
    if ((upright.error - turned.error) / b.area > 3) votes++;
  }
  return votes * 2 > views.length;
}

/** The median colour of the blob's interior (pixels well inside its outline), as seen. */
function interiorColour(clip: VideoClip, f: number, mask: Uint8Array, b: Blob): Rgb {
  const { width } = clip;
  const off = f * clip.width * clip.height * 3;
  const rs: number[] = [], gs: number[] = [], bs: number[] = [];
  for (const depth of [2, 1, 0]) {
    for (let y = b.y0 + depth; y <= b.y1 - depth; y++) for (let x = b.x0 + depth; x <= b.x1 - depth; x++) {
      let inside = true;
      for (let d = -depth; d <= depth && inside; d++) {
        inside = !!mask[y * width + x + d] && !!mask[(y + d) * width + x];
      }
      if (!inside) continue;
      const p = off + (y * width + x) * 3;
      rs.push(clip.data[p]!); gs.push(clip.data[p + 1]!); bs.push(clip.data[p + 2]!);
    }
    if (rs.length >= 6) break;
  }
  const median = (v: number[]) => v.length ? v.sort((a, c) => a - c)[v.length >> 1]! : 128;
  return [median(rs), median(gs), median(bs)];
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
// Tracking

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

interface RawTrack {
  blobs: Blob[];
  missed: number;
}

/** Greedy nearest-first association with constant-velocity prediction; a track survives a few missed frames. */
function link(blobsPerFrame: Blob[][], unit: number): RawTrack[] {
  const done: RawTrack[] = [];
  let live: RawTrack[] = [];
  for (const blobs of blobsPerFrame) {
    const taken = new Set<Blob>();
    const pairs: [number, RawTrack, Blob][] = [];
    for (const t of live) {
      const last = t.blobs[t.blobs.length - 1]!;
      const prev = t.blobs.length > 1 ? t.blobs[t.blobs.length - 2]! : last;
      const steps = t.missed + 1;
      const gap = Math.max(1, last.frame - prev.frame);
      const vx = (last.cx - prev.cx) / gap, vy = (last.cy - prev.cy) / gap;
      const px = last.cx + vx * steps, py = last.cy + vy * steps;
      const reach = 0.2 * unit * steps + 1.5 * Math.hypot(vx, vy);
      for (const b of blobs) {
        const d = Math.hypot(b.cx - px, b.cy - py) + Math.abs(Math.sqrt(b.area) - Math.sqrt(last.area)) * 0.5;
        if (d < reach) pairs.push([d, t, b]);
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
  return joinBroken([...done, ...live], unit);
}

/**
 * Joins a track that ends to one that starts soon after where the first was heading (an object lost for a few
 * frames, say where it crosses a part of the background that matches it).
 */
function joinBroken(tracks: RawTrack[], unit: number): RawTrack[] {
  const byStart = [...tracks].sort((a, b) => a.blobs[0]!.frame - b.blobs[0]!.frame);
  const out: RawTrack[] = [];
  for (const t of byStart) {
    const head = t.blobs[0]!;
    let best: RawTrack | null = null, bestD = Infinity;
    for (const a of out) {
      const last = a.blobs[a.blobs.length - 1]!, prev = a.blobs.length > 1 ? a.blobs[a.blobs.length - 2]! : last;
      const gap = head.frame - last.frame;
      if (gap < -2 || gap > 8) continue;
      let d: number;
      if (gap >= 1) {
        const step = Math.max(1, last.frame - prev.frame);
        d = Math.hypot(head.cx - (last.cx + ((last.cx - prev.cx) / step) * gap), head.cy - (last.cy + ((last.cy - prev.cy) / step) * gap));
      } else {
        // seen twice at once for a frame or two: the object broke into two pieces there
        const same = a.blobs.find((b) => b.frame === head.frame);
        d = same ? Math.hypot(head.cx - same.cx, head.cy - same.cy) - Math.sqrt(same.area + head.area) : Infinity;
      }
      if (d < 0.15 * unit * Math.sqrt(Math.max(1, gap)) && d < bestD) { best = a; bestD = d; }
    }
    if (!best) { out.push(t); continue; }
    for (const b of t.blobs) {
      const same = best.blobs.find((o) => o.frame === b.frame);
      if (same) mergeInto(same, b);
      else best.blobs.push(b);
    }
  }
  return out;
}

/** Folds blob b into a (two pieces of one object in one frame). */
function mergeInto(a: Blob, b: Blob): void {
  const area = a.area + b.area;
  a.cx = (a.cx * a.area + b.cx * b.area) / area;
  a.cy = (a.cy * a.area + b.cy * b.area) / area;
  a.area = area;
  a.x0 = Math.min(a.x0, b.x0); a.y0 = Math.min(a.y0, b.y0); a.x1 = Math.max(a.x1, b.x1); a.y1 = Math.max(a.y1, b.y1);
  a.touchesEdge ||= b.touchesEdge;
}

/**
 * Drops tracks of stray pieces: a track much smaller than another that stays within that one's reach (a thin part
 * of a turning sprite that the opening cut off) is part of it, not an object of its own.
 */
function dropFragments(tracks: RawTrack[]): RawTrack[] {
  const size = (t: RawTrack) => median(t.blobs.map((b) => b.area));
  return tracks.filter((a) => !tracks.some((b) => {
    if (b === a || size(a) > 0.3 * size(b)) return false;
    const reach = 1.6 * Math.sqrt(size(b) / Math.PI) + 2;
    let near = 0;
    for (const p of a.blobs) {
      const q = b.blobs.find((o) => o.frame === p.frame);
      if (q && Math.hypot(p.cx - q.cx, p.cy - q.cy) < reach) near++;
    }
    return near >= 0.7 * a.blobs.length;
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Motion

const DIRECTION_SECTORS: MotionClass[] = ['right', 'down-right', 'down', 'down-left', 'left', 'up-left', 'up', 'up-right'];


/** Least-squares circle through points (Kasa fit): centre, radius and rms distance from it. */
function fitCircle(xs: number[], ys: number[]): { cx: number; cy: number; r: number; rms: number } {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
  let suu = 0, svv = 0, suv = 0, suuu = 0, svvv = 0, suvv = 0, svuu = 0;
  for (let i = 0; i < n; i++) {
    const u = xs[i]! - mx, v = ys[i]! - my;
    suu += u * u; svv += v * v; suv += u * v; suuu += u * u * u; svvv += v * v * v; suvv += u * v * v; svuu += v * u * u;
  }
  const det = suu * svv - suv * suv;
  if (Math.abs(det) < 1e-12) return { cx: mx, cy: my, r: Infinity, rms: Infinity };
  const bu = (suuu + suvv) / 2, bv = (svvv + svuu) / 2;
  const uc = (bu * svv - bv * suv) / det, vc = (bv * suu - bu * suv) / det;
  const cx = mx + uc, cy = my + vc;
  const r = Math.sqrt(uc * uc + vc * vc + (suu + svv) / n);
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (Math.hypot(xs[i]! - cx, ys[i]! - cy) - r) ** 2;
  return { cx, cy, r, rms: Math.sqrt(sq / n) };
}

/**
 * The motion a track shows, from its world-frame centres (in units of the frame's shorter side), its areas and
 * whether it turns in place.
 */
function classifyMotion(xs: number[], ys: number[], areas: number[], turning: boolean, unit: number): MotionClass {
  const n = xs.length;
  if (n < 3) return 'still';
  const px = 1 / unit;
  const vx = xs.slice(1).map((x, i) => x - xs[i]!), vy = ys.slice(1).map((y, i) => y - ys[i]!);
  const pathX = vx.reduce((s, v) => s + Math.abs(v), 0), pathY = vy.reduce((s, v) => s + Math.abs(v), 0);
  // a turning sprite's centroid circles its centre by a few pixels; the slowest travel covers 0.16 units
  const span = Math.max(...xs.map((x, i) => Math.hypot(x - xs[0]!, ys[i]! - ys[0]!)));
  // growing and shrinking happen in place (a travelling sprite's area also changes with what lies behind it)
  if (span < 0.1) {
    const k = Math.min(3, Math.max(1, Math.floor(n / 4)));
    const growth = median(areas.slice(-k)) / median(areas.slice(0, k));
    if (growth > 1.5) return 'grow';
    if (growth < 0.67) return 'shrink';
  }
  if (span < 0.08) return turning ? 'spin' : 'still';
  // orbit: a good circle fit that sweeps a large angle one way
  const circle = fitCircle(xs, ys);
  if (circle.r > 0.05 && circle.r < 0.5 && circle.rms < 0.12 * circle.r) {
    let swept = 0, sameWay = 0;
    for (let i = 1; i < n; i++) {
      let d = Math.atan2(ys[i]! - circle.cy, xs[i]! - circle.cx) - Math.atan2(ys[i - 1]! - circle.cy, xs[i - 1]! - circle.cx);
      while (d > Math.PI) d -= 2 * Math.PI;
      while (d < -Math.PI) d += 2 * Math.PI;
      swept += d;
      sameWay += Math.sign(d);
    }
    if (Math.abs(swept) > 2 && Math.abs(sameWay) >= 0.8 * (n - 1)) return 'orbit';
  }
  // vertical motion under gravity: down and up again (bounce), up and down again (jump), down faster and faster (fall)
  if (pathY > 2.5 * pathX) {
    const eps = px;
    const moves = vy.filter((v) => Math.abs(v) > eps);
    const firstMove = moves[0] ?? 0;
    const down = moves.filter((v) => v > 0).length, up = moves.length - down;
    const reversals = moves.slice(1).filter((v, i) => Math.sign(v) !== Math.sign(moves[i]!)).length;
    if (down >= 2 && up >= 2 && reversals >= 1) return firstMove < 0 ? 'jump' : 'bounce';
    // a fall starts from rest and speeds up; a move downward keeps its speed
    const peak = Math.max(...vy);
    if (down > 0 && up === 0 && peak > 2 * px && vy[0]! < 0.4 * peak) return 'fall';
  }
  // straight travel: the direction of the least-squares velocity
  const t = xs.map((_, i) => i), tm = (n - 1) / 2;
  const den = t.reduce((s, v) => s + (v - tm) ** 2, 0);
  const mxs = xs.reduce((s, v) => s + v, 0) / n, mys = ys.reduce((s, v) => s + v, 0) / n;
  const sx = t.reduce((s, v, i) => s + (v - tm) * (xs[i]! - mxs), 0) / den;
  const sy = t.reduce((s, v, i) => s + (v - tm) * (ys[i]! - mys), 0) / den;
  if (Math.hypot(sx, sy) * (n - 1) > 4 * px) {
    const sector = Math.round(Math.atan2(sy, sx) / (Math.PI / 4));
    return DIRECTION_SECTORS[(sector + 8) % 8]!;
  }
  return turning ? 'spin' : 'still';
}

// ---------------------------------------------------------------------------------------------------------------

/** Reads a clip back: setting, camera, and every object's identity and motion. */
export function analyseClip(clip: VideoClip): Analysis {
  const { width, height, frames } = clip;
  const unit = Math.min(width, height);
  const pixels = width * height;
  const setting = findSetting(clip);
  const scene = sceneLike(clip, setting.background, setting.lighting, setting.camera);
  const tint = LIGHT_TINT[setting.lighting];
  const scale = unit / 64;
  const minArea = Math.max(6, 8 * scale * scale);
  const openSize = unit >= 128 ? 5 : 3;
  const bgFrames: Uint8Array[] = [];
  const masks: Uint8Array[] = [];
  const blobsPerFrame: Blob[][] = [];
  for (let f = 0; f < frames; f++) {
    const bg = renderBackgroundFrame(scene, f);
    const raw = foregroundMask(clip, f, bg);
    const opened = openMask(raw, width, height, openSize);
    bgFrames.push(bg);
    masks.push(opened);
    blobsPerFrame.push(findBlobs(raw, opened, width, height, f, Math.max(2, Math.round(2 * scale)), minArea));
  }
  const raw = dropFragments(link(blobsPerFrame, unit).filter((t) => t.blobs.length >= Math.max(1, Math.ceil(frames * 0.4))));

  const tracks: Track[] = [];
  let violations = 0;
  let physicsScore = 0, physicsCount = 0;
  for (const t of raw) {
    const cams = t.blobs.map((b) => cameraAt(scene, b.frame / clip.fps));
    // world-frame centres in units (the camera's pan and zoom undone) and areas
    const xs = t.blobs.map((b, i) => ((b.cx - width / 2) / cams[i]!.zoom + width / 2) / unit + cams[i]!.offsetX);
    const ys = t.blobs.map((b, i) => ((b.cy - height / 2) / cams[i]!.zoom + height / 2) / unit);
    const areas = t.blobs.map((b, i) => b.area / cams[i]!.zoom ** 2);
    let motion = classifyMotion(xs, ys, areas, false, unit);


    // name it from its clearest sightings: the first frame (every motion starts upright and at its own size),
    // then the largest whole ones; an object that stays in place may be turning, so only the first counts for it
    const whole = t.blobs.filter((b) => !b.touchesEdge);
    const pool = whole.length ? whole : t.blobs;
    const first = pool[0]!;
    const chosen = [first, ...pool.slice(1).sort((a, b) => b.area - a.area)].slice(0, motion === 'still' ? 1 : 3);
    const viewOf = (b: Blob, colour: Rgb): View => ({ frame: clip.data, offset: b.frame * pixels * 3, bg: bgFrames[b.frame]!, width, height, blob: b, colour, tint });
    const total = new Map<string, number>();
    const colours: Rgb[] = [];
    let firstFit: Fit | null = null;
    for (const b of chosen) {
      const colour = interiorColour(clip, b.frame, masks[b.frame]!, b);
      colours.push(colour);
      const fits = nameView(viewOf(b, colour), motion === 'still' && b.frame !== 0);
      firstFit ??= fits[0]!;
      for (const f of fits) total.set(f.c.kind, (total.get(f.c.kind) ?? 0) + f.error / b.area);
    }
    const kind = [...total].sort((a, b) => a[1] - b[1])[0]![0];

    if (motion === 'still' && kind !== 'circle' && kind !== 'ring' && firstFit && firstFit.c.kind === kind) {
      const later = pool.filter((b) => b !== first);
      const picks = [0.25, 0.5, 0.75, 1].map((q) => later[Math.min(later.length - 1, Math.floor(q * (later.length - 1)))]).filter((b): b is Blob => !!b);
      const views = [...new Set(picks)].map((b) => viewOf(b, colours[0]!));
      const zoomOf = (frame: number) => cameraAt(scene, frame / clip.fps).zoom;
      if (views.length && turnsInPlace(views, firstFit, zoomOf, first.frame)) motion = 'spin';
    }
    const track: Track = { kind, motion, frames: t.blobs.map((b) => b.frame), centres: t.blobs.map((b) => [b.cx, b.cy]), areas };
    if (isShape(kind)) {
      const seen = [0, 1, 2].map((c) => median(colours.map((col) => col[c]!)));
      track.colour = nearestColour([seen[0]! / tint[0], seen[1]! / tint[1], seen[2]! / tint[2]]);
    }
    tracks.push(track);
    violations += permanenceViolations(t, blobsPerFrame, frames);
    if (motion === 'fall' || motion === 'bounce' || motion === 'jump') {
      physicsScore += gravityFit(ys, t.blobs.map((b) => b.frame / clip.fps), unit);
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
 * Plausibility of a vertical path under constant gravity. The path is cut at each floor contact (where it turns
 * from falling to rising) and the rest at the end is dropped; each airborne stretch is fit with a parabola. The
 * score falls with the fit's error (relative to a pixel) and with disagreement between the stretches' accelerations.
 */
function gravityFit(ys: number[], ts: number[], unit: number): number {
  const px = 1 / unit;
  let end = ys.length;
  while (end > 2 && Math.abs(ys[end - 1]! - ys[end - 2]!) < 0.25 * px) end--;
  const segments: [number[], number[]][] = [];
  let cur: [number[], number[]] = [[], []];
  for (let i = 0; i < end; i++) {
    const contact = i > 0 && i < end - 1 && ys[i]! >= ys[i - 1]! && ys[i]! > ys[i + 1]!;
    if (contact) {
      // the contact happened between samples: the sample nearest it belongs to neither parabola
      segments.push(cur);
      cur = [[], []];
      continue;
    }
    cur[0].push(ts[i]!); cur[1].push(ys[i]!);
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
  const fitScore = Math.exp(-(residual / count) / (0.5 * px));
  return meanA > 0 ? fitScore * Math.exp(-2 * spread) : 0;
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
