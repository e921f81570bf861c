/**
 * Renderer: SceneSpec -> VideoClip. Per frame: copy (or resample, when zooming) the cached background canvas,
 * draw objects back to front, then weather. Shapes are signed-distance fields evaluated on their bounding box
 * only, with an exact coverage shortcut inside the inscribed circle; sprites are sampled bilinearly from the
 * nearest mip level. Night lighting is folded into the background canvas and the object colours, so it costs
 * nothing per pixel.
 */
import { Rng } from '../engine/random.js';
import type { VideoClip } from '../media/types.js';
import { LIGHT_TINT, paintBackground, type Canvas } from './backgrounds.js';
import { COLOURS, isShape, type ShapeKind } from './lexicon.js';
import { cameraAt, simulate, type Camera, type Pose } from './simulate.js';
import type { SceneSpec } from './spec.js';
import { levelFor, sprite } from './sprites.js';

type Rgb = readonly [number, number, number];

// ---------------------------------------------------------------------------------------------------------------
// Shape geometry, in units of the object's radius

function regularPolygon(n: number, startDeg: number, radius = 1): number[] {
  const v: number[] = [];
  for (let k = 0; k < n; k++) {
    const a = ((startDeg + (360 * k) / n) * Math.PI) / 180;
    v.push(radius * Math.cos(a), radius * Math.sin(a));
  }
  return v;
}

function starPolygon(points: number, inner: number): number[] {
  const v: number[] = [];
  for (let k = 0; k < 2 * points; k++) {
    const a = -Math.PI / 2 + (Math.PI * k) / points;
    const r = k % 2 === 0 ? 1 : inner;
    v.push(r * Math.cos(a), r * Math.sin(a));
  }
  return v;
}

interface ShapeGeometry {
  /** Polygon vertices (x0, y0, x1, y1, ...), or null for the round shapes. */
  polygon: number[] | null;
  /** Radius of a circle fully inside the shape (pixels within it are fully covered). */
  inner: number;
  /** Radius of a circle containing the shape. */
  outer: number;
}

export const SHAPE_GEOMETRY: Record<ShapeKind, ShapeGeometry> = {
  circle: { polygon: null, inner: 1, outer: 1 },
  ring: { polygon: null, inner: 0, outer: 1 },
  square: { polygon: regularPolygon(4, 45, 0.8 * Math.SQRT2), inner: 0.8, outer: 0.8 * Math.SQRT2 },
  diamond: { polygon: [0, -1, 0.68, 0, 0, 1, -0.68, 0], inner: 0.56, outer: 1 },
  triangle: { polygon: regularPolygon(3, -90, 1.1), inner: 0.55, outer: 1.1 },
  hexagon: { polygon: regularPolygon(6, 0), inner: 0.866, outer: 1 },
  star: { polygon: starPolygon(5, 0.45), inner: 0.36, outer: 1 },
};

/** Signed distance from (x, y) to a polygon's outline, negative inside (even-odd rule). */
function polygonDistance(v: number[], x: number, y: number): number {
  let best = Infinity;
  let inside = false;
  const n = v.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const ax = v[j]!, ay = v[j + 1]!, bx = v[i]!, by = v[i + 1]!;
    const ex = bx - ax, ey = by - ay;
    const wx = x - ax, wy = y - ay;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const dx = wx - ex * t, dy = wy - ey * t;
    const d2 = dx * dx + dy * dy;
    if (d2 < best) best = d2;
    if ((ay > y) !== (by > y) && x < ax + ((y - ay) * ex) / ey) inside = !inside;
  }
  const d = Math.sqrt(best);
  return inside ? -d : d;
}

/** Signed distance to a shape of radius 1, in the same units. */
export function shapeDistance(kind: ShapeKind, x: number, y: number): number {
  if (kind === 'circle') return Math.sqrt(x * x + y * y) - 1;
  if (kind === 'ring') return Math.abs(Math.sqrt(x * x + y * y) - 0.72) - 0.28;
  return polygonDistance(SHAPE_GEOMETRY[kind].polygon!, x, y);
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing into one RGB frame

interface Target {
  data: Uint8Array;
  offset: number;
  width: number;
  height: number;
}

/**
 * A drawn object as premultiplied RGBA over a small pixel grid whose (0,0) sits at integer offset (-pad, -pad)
 * from the object's centre pixel. Stamps are cached by everything that changes their pixels (kind, colour, radius
 * and angle rounded finely, sub-pixel phase in quarters), so an object that only translates is rasterised a few
 * times per clip and then copied.
 */
export interface Stamp {
  side: number;
  pad: number;
  rgba: Float32Array;
}

const stampCache = new Map<string, Stamp>();
let stampBytes = 0;
const STAMP_CACHE_BYTES = 48 << 20;

function cachedStamp(key: string, make: () => Stamp): Stamp {
  const hit = stampCache.get(key);
  if (hit) return hit;
  const stamp = make();
  stampBytes += stamp.rgba.byteLength;
  while (stampBytes > STAMP_CACHE_BYTES && stampCache.size > 0) {
    const [oldest, s] = stampCache.entries().next().value!;
    stampCache.delete(oldest);
    stampBytes -= s.rgba.byteLength;
  }
  stampCache.set(key, stamp);
  return stamp;
}

/** A zeroed stamp buffer of side^2 pixels: `scratch` reused when given and large enough (one-off stamps). */
function stampBuffer(side: number, scratch?: Float32Array): Float32Array {
  const n = side * side * 4;
  if (!scratch || scratch.length < n) return new Float32Array(n);
  const view = scratch.subarray(0, n);
  view.fill(0);
  return view;
}

function shapeStamp(kind: ShapeKind, colour: Rgb, radius: number, angle: number, fx: number, fy: number, scratch?: Float32Array): Stamp {
  const geo = SHAPE_GEOMETRY[kind];
  const pad = Math.ceil(geo.outer * radius + 1);
  const side = 2 * pad + 1;
  const rgba = stampBuffer(side, scratch);
  const cx = pad + fx, cy = pad + fy;
  const inner2 = Math.max(0, geo.inner * radius - 1) ** 2, outer2 = (geo.outer * radius + 1) ** 2;
  const cos = Math.cos(angle), sin = Math.sin(angle), inv = 1 / radius;
  const [r, g, b] = colour;
  for (let y = 0; y < side; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < side; x++) {
      const dx = x + 0.5 - cx;
      const d2 = dx * dx + dy * dy;
      if (d2 > outer2) continue;
      let cover = 1;
      if (d2 >= inner2 || kind === 'ring') {
        const lx = (dx * cos + dy * sin) * inv, ly = (dy * cos - dx * sin) * inv;
        cover = Math.min(1, 0.5 - shapeDistance(kind, lx, ly) * radius);
        if (cover <= 0) continue;
      }
      const o = (y * side + x) * 4;
      rgba[o] = r * cover; rgba[o + 1] = g * cover; rgba[o + 2] = b * cover; rgba[o + 3] = cover;
    }
  }
  return { side, pad, rgba };
}

function spriteStamp(name: string, tint: Rgb, radius: number, angle: number, mirror: boolean, fx: number, fy: number, scratch?: Float32Array): Stamp {
  const level = levelFor(sprite(name), 2 * radius);
  const texSide = level.side, tex = level.rgba, last = texSide - 1;
  const pad = Math.ceil((angle === 0 ? 1 : Math.SQRT2) * radius + 1);
  const side = 2 * pad + 1;
  const rgba = stampBuffer(side, scratch);
  const cx = pad + fx, cy = pad + fy;
  const scale = texSide / (2 * radius);
  const flip = mirror ? -1 : 1;
  const cos = Math.cos(angle) * scale, sin = Math.sin(angle) * scale;
  const centre = texSide / 2 - 0.5;
  // texture coordinates are linear in x along a row: step them instead of recomputing
  const du = flip * cos, dv = -sin;
  const [tr, tg, tb] = tint;
  for (let y = 0; y < side; y++) {
    const dy = y + 0.5 - cy, dx0 = 0.5 - cx;
    let u = flip * (dx0 * cos + dy * sin) + centre;
    let v = dy * cos - dx0 * sin + centre;
    for (let x = 0, o = y * side * 4; x < side; x++, o += 4, u += du, v += dv) {
      if (u <= -1 || v <= -1 || u >= texSide || v >= texSide) continue;
      const iu = Math.floor(u), iv = Math.floor(v);
      const fu = u - iu, fv = v - iv;
      let pr = 0, pg = 0, pb = 0, pa = 0;
      if (iu >= 0 && iv >= 0 && iu < last && iv < last) {
        const s00 = (iv * texSide + iu) * 4, s10 = s00 + texSide * 4;
        const w00 = (1 - fu) * (1 - fv), w01 = fu * (1 - fv), w10 = (1 - fu) * fv, w11 = fu * fv;
        pr = tex[s00]! * w00 + tex[s00 + 4]! * w01 + tex[s10]! * w10 + tex[s10 + 4]! * w11;
        pg = tex[s00 + 1]! * w00 + tex[s00 + 5]! * w01 + tex[s10 + 1]! * w10 + tex[s10 + 5]! * w11;
        pb = tex[s00 + 2]! * w00 + tex[s00 + 6]! * w01 + tex[s10 + 2]! * w10 + tex[s10 + 6]! * w11;
        pa = tex[s00 + 3]! * w00 + tex[s00 + 7]! * w01 + tex[s10 + 3]! * w10 + tex[s10 + 7]! * w11;
      } else {
        // on the texture's border: taps outside it are transparent
        for (let k = 0; k < 4; k++) {
          const su = iu + (k & 1), sv = iv + (k >> 1);
          if (su < 0 || sv < 0 || su >= texSide || sv >= texSide) continue;
          const w = ((k & 1) ? fu : 1 - fu) * ((k >> 1) ? fv : 1 - fv);
          const s = (sv * texSide + su) * 4;
          pr += tex[s]! * w; pg += tex[s + 1]! * w; pb += tex[s + 2]! * w; pa += tex[s + 3]! * w;
        }
      }
      rgba[o] = pr * tr; rgba[o + 1] = pg * tg; rgba[o + 2] = pb * tb; rgba[o + 3] = pa;
    }
  }
  return { side, pad, rgba };
}

/** Composites a stamp whose centre pixel is (ix, iy): out = out * (1 - alpha) + premultiplied colour. */
function blitStamp(t: Target, stamp: Stamp, ix: number, iy: number): void {
  const { side, pad, rgba } = stamp;
  const x0 = Math.max(0, ix - pad), x1 = Math.min(t.width, ix - pad + side);
  const y0 = Math.max(0, iy - pad), y1 = Math.min(t.height, iy - pad + side);
  const data = t.data;
  for (let y = y0; y < y1; y++) {
    let s = ((y - iy + pad) * side + (x0 - ix + pad)) * 4;
    let o = t.offset + (y * t.width + x0) * 3;
    for (let x = x0; x < x1; x++, s += 4, o += 3) {
      const a = rgba[s + 3]!;
      if (a <= 0.002) continue;
      const keep = 1 - a;
      data[o] = data[o]! * keep + rgba[s]! + 0.5;
      data[o + 1] = data[o + 1]! * keep + rgba[s + 1]! + 0.5;
      data[o + 2] = data[o + 2]! * keep + rgba[s + 2]! + 0.5;
    }
  }
}

const SUBPIXEL = 4;

/**
 * An object drawn alone, exactly as the renderer draws it, as a premultiplied stamp with its centre pixel: the
 * judge and the scene generator use it to see what an object looks like over a known background. One-off stamps
 * (the judge's trial poses) are drawn into `scratch`, uncached, so they neither allocate nor push the renderer's
 * stamps out; such a stamp is valid until the scratch buffer is used again.
 */
export function objectStamp(kind: string, colour: Rgb, tint: Rgb, cx: number, cy: number, radius: number, angle: number, mirror: boolean, scratch?: Float32Array): { stamp: Stamp; ix: number; iy: number } {
  const qx = Math.round(cx * SUBPIXEL), qy = Math.round(cy * SUBPIXEL);
  const ix = Math.floor(qx / SUBPIXEL), iy = Math.floor(qy / SUBPIXEL);
  const fx = (qx - ix * SUBPIXEL) / SUBPIXEL, fy = (qy - iy * SUBPIXEL) / SUBPIXEL;
  const r = Math.round(radius * 16) / 16;
  const a = Math.round(angle * 180 / Math.PI) % 360;
  const rad = a * Math.PI / 180;
  const make = (buffer?: Float32Array) => isShape(kind) ? shapeStamp(kind, colour, r, rad, fx, fy, buffer) : spriteStamp(kind, tint, r, rad, mirror, fx, fy, buffer);
  if (scratch) return { stamp: make(scratch), ix, iy };
  const key = isShape(kind) ? `${kind}|${colour.join(',')}|${r}|${a}|${fx}|${fy}` : `${kind}|${tint.join(',')}|${r}|${a}|${mirror}|${fx}|${fy}`;
  return { stamp: cachedStamp(key, make), ix, iy };
}

/** Draws a shape or sprite centred at (cx, cy) px with the given radius (px) and pose. */
function drawObject(t: Target, kind: string, colour: Rgb, tint: Rgb, cx: number, cy: number, radius: number, angle: number, mirror: boolean): void {
  const { stamp, ix, iy } = objectStamp(kind, colour, tint, cx, cy, radius, angle, mirror);
  blitStamp(t, stamp, ix, iy);
}

// ---------------------------------------------------------------------------------------------------------------
// Background per frame

function copyBackground(t: Target, canvas: Canvas, shiftX: number, shiftY: number): void {
  const rowBytes = t.width * 3;
  for (let y = 0; y < t.height; y++) {
    const src = ((y + shiftY) * canvas.width + shiftX) * 3;
    t.data.set(canvas.data.subarray(src, src + rowBytes), t.offset + y * rowBytes);
  }
}

/**
 * Bilinear resample of the canvas for a zooming camera: screen = (world - centre - offset) * zoom + centre. Fixed
 * point: weights in 1/256ths, so each channel is four integer multiply-adds and a shift.
 */
function resampleBackground(t: Target, canvas: Canvas, cam: Camera, unit: number): void {
  const cx = t.width / 2, cy = t.height / 2;
  const inv = 1 / cam.zoom;
  const cw = canvas.width, ch = canvas.height, src = canvas.data, out = t.data;
  const stride = cw * 3;
  // the x mapping is the same on every row: compute it once
  const colIndex = new Int32Array(t.width), colWeight = new Int32Array(t.width);
  for (let x = 0; x < t.width; x++) {
    const wx = Math.min(cw - 1.001, Math.max(0, (x + 0.5 - cx) * inv + cx + cam.offsetX * unit - 0.5 - canvas.originX));
    const ix = Math.floor(wx);
    colIndex[x] = ix * 3;
    colWeight[x] = Math.round((wx - ix) * 256);
  }
  for (let y = 0; y < t.height; y++) {
    const wy = Math.min(ch - 1.001, Math.max(0, (y + 0.5 - cy) * inv + cy - 0.5 - canvas.originY));
    const iy = Math.floor(wy), fy = Math.round((wy - iy) * 256), gy = 256 - fy;
    const rowA = iy * stride;
    let o = t.offset + y * t.width * 3;
    for (let x = 0; x < t.width; x++, o += 3) {
      const a = rowA + colIndex[x]!, b = a + stride, fx = colWeight[x]!, gx = 256 - fx;
      for (let c = 0; c < 3; c++) {
        const top = src[a + c]! * gx + src[a + 3 + c]! * fx, bottom = src[b + c]! * gx + src[b + 3 + c]! * fx;
        out[o + c] = (top * gy + bottom * fy + 32768) >> 16;
      }
    }
  }
}

/** The world region every frame of the clip can see, painted once. */
export function backgroundCanvas(spec: SceneSpec): Canvas {
  const unit = Math.min(spec.width, spec.height);
  let minX = 0, maxX = spec.width, minY = 0, maxY = spec.height;
  for (let f = 0; f < spec.frames; f++) {
    const cam = cameraAt(spec, f / spec.fps);
    const halfW = spec.width / 2 / cam.zoom, halfH = spec.height / 2 / cam.zoom;
    minX = Math.min(minX, spec.width / 2 - halfW + cam.offsetX * unit);
    maxX = Math.max(maxX, spec.width / 2 + halfW + cam.offsetX * unit);
    minY = Math.min(minY, spec.height / 2 - halfH);
    maxY = Math.max(maxY, spec.height / 2 + halfH);
  }
  const x0 = Math.floor(minX) - 1, y0 = Math.floor(minY) - 1;
  return paintBackground(spec.background, spec.lighting, spec.width, spec.height, x0, y0, Math.ceil(maxX) + 1 - x0, Math.ceil(maxY) + 1 - y0);
}

/** Paints the background of one frame as the camera sees it at time t. */
export function drawBackground(t: Target, canvas: Canvas, cam: Camera, unit: number): void {
  if (cam.zoom === 1) copyBackground(t, canvas, Math.round(cam.offsetX * unit) - canvas.originX, -canvas.originY);
  else resampleBackground(t, canvas, cam, unit);
}

// ---------------------------------------------------------------------------------------------------------------
// Weather

interface Particle { x: number; y: number; speed: number; phase: number; size: number }

function weatherParticles(spec: SceneSpec): Particle[] {
  if (spec.weather === 'clear') return [];
  const rng = new Rng(spec.seed).fork('weather');
  const count = Math.round((spec.width * spec.height) / (spec.weather === 'snow' ? 90 : 110));
  const out: Particle[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ x: rng.uniform(), y: rng.uniform(), speed: rng.range(0.7, 1.3), phase: rng.range(0, 2 * Math.PI), size: rng.uniform() });
  }
  return out;
}

/**
 * Snow flakes are small soft discs: every radius (in quarter pixels) at each half-pixel phase is drawn once per
 * colour and scale, and drawing a flake is a copy of one of these tiny stamps.
 */
const flakeCache = new Map<string, Stamp[]>();
const FLAKE_SIZES = 8;

function flakeRadius(size: number, scale: number): number {
  return Math.round((0.4 + 0.45 * size) * scale * 4) / 4;
}

function flakeStamps(colour: Rgb, scale: number): Stamp[] {
  const key = `${colour.join(',')}|${scale}`;
  const hit = flakeCache.get(key);
  if (hit) return hit;
  const stamps: Stamp[] = [];
  for (let k = 0; k < FLAKE_SIZES; k++) {
    const radius = flakeRadius(k / (FLAKE_SIZES - 1), scale);
    for (const [fx, fy] of [[0, 0], [0.5, 0], [0, 0.5], [0.5, 0.5]] as const) {
      const s = shapeStamp('circle', colour, radius, 0, fx, fy);
      for (let i = 0; i < s.rgba.length; i++) s.rgba[i]! *= 0.9;
      stamps.push(s);
    }
  }
  if (flakeCache.size >= 64) flakeCache.delete(flakeCache.keys().next().value!);
  flakeCache.set(key, stamps);
  return stamps;
}

function drawWeather(t: Target, spec: SceneSpec, particles: Particle[], time: number, tint: Rgb): void {
  const unit = Math.min(spec.width, spec.height);
  const scale = Math.max(1, unit / 64);
  if (spec.weather === 'snow') {
    const colour: Rgb = [Math.round(250 * tint[0]), Math.round(250 * tint[1]), Math.round(255 * tint[2])];
    const stamps = flakeStamps(colour, scale);
    for (const p of particles) {
      const y = ((p.y + 0.18 * p.speed * time) % 1) * spec.height;
      const x = (((p.x + 0.02 * Math.sin(2 * Math.PI * 0.5 * time + p.phase)) % 1) + 1) % 1 * spec.width;
      const qx = Math.round(x * 2), qy = Math.round(y * 2);
      const size = Math.round(p.size * (FLAKE_SIZES - 1));
      blitStamp(t, stamps[size * 4 + (qx & 1) + 2 * (qy & 1)]!, qx >> 1, qy >> 1);
    }
  } else if (spec.weather === 'rain') {
    const [cr, cg, cb] = [185 * tint[0], 200 * tint[1], 230 * tint[2]];
    const length = 0.06 * unit;
    const data = t.data;
    for (const p of particles) {
      const y = ((p.y + 1.6 * p.speed * time) % 1) * spec.height;
      const x = p.x * spec.width;
      for (let s = 0; s < length; s++) {
        const px = Math.floor(x - 0.25 * s), py = Math.floor(y - s);
        if (px < 0 || py < 0 || px >= t.width || py >= t.height) continue;
        const o = t.offset + (py * t.width + px) * 3;
        data[o] = data[o]! + (cr - data[o]!) * 0.45 + 0.5;
        data[o + 1] = data[o + 1]! + (cg - data[o + 1]!) * 0.45 + 0.5;
        data[o + 2] = data[o + 2]! + (cb - data[o + 2]!) * 0.45 + 0.5;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Where a pose lands on screen under the camera: centre and radius in pixels. */
export function screenPose(pose: Pose, cam: Camera, width: number, height: number): { x: number; y: number; radius: number } {
  const unit = Math.min(width, height);
  return {
    x: (pose.x * unit - width / 2 - cam.offsetX * unit) * cam.zoom + width / 2,
    y: (pose.y * unit - height / 2) * cam.zoom + height / 2,
    radius: pose.radius * unit * cam.zoom,
  };
}

/** Where an object is drawn in one frame: a disc in pixels that holds every pixel of it. */
export interface Footprint {
  x: number;
  y: number;
  radius: number;
}

/**
 * The discs the scene's objects cover, per frame ([frame][object]), in screen pixels. A sprite's square (turned at
 * most 45 degrees) and every shape fit within sqrt(2) radius of the centre, plus a pixel of anti-aliasing.
 */
export function objectFootprints(spec: SceneSpec, poses: Pose[][] = simulate(spec)): Footprint[][] {
  return poses.slice(0, spec.frames).map((framePoses, f) => {
    const cam = cameraAt(spec, f / spec.fps);
    return framePoses.map((pose) => {
      const s = screenPose(pose, cam, spec.width, spec.height);
      return { x: s.x, y: s.y, radius: Math.SQRT2 * s.radius + 1 };
    });
  });
}

/** Renders a scene. Deterministic: the same spec gives the same bytes. */
export function renderScene(spec: SceneSpec, poses: Pose[][] = simulate(spec)): VideoClip {
  const { width, height, frames } = spec;
  const unit = Math.min(width, height);
  const data = new Uint8Array(frames * width * height * 3);
  const canvas = backgroundCanvas(spec);
  const tint = LIGHT_TINT[spec.lighting];
  const particles = weatherParticles(spec);
  const order = spec.objects.map((o, i) => i).sort((a, b) => spec.objects[a]!.physics.depth - spec.objects[b]!.physics.depth || a - b);
  const colours = spec.objects.map((o) => {
    const c = COLOURS[o.colour ?? 'white'];
    return [c[0] * tint[0], c[1] * tint[1], c[2] * tint[2]] as const;
  });
  for (let f = 0; f < frames; f++) {
    const time = f / spec.fps;
    const cam = cameraAt(spec, time);
    const target: Target = { data, offset: f * width * height * 3, width, height };
    drawBackground(target, canvas, cam, unit);
    for (const i of order) {
      const o = spec.objects[i]!;
      const pose = poses[f]![i]!;
      const s = screenPose(pose, cam, width, height);
      drawObject(target, o.kind, colours[i]!, tint, s.x, s.y, s.radius, pose.angle, pose.mirror);
    }
    drawWeather(target, spec, particles, time, tint);
  }
  return { frames, height, width, fps: spec.fps, data };
}
