/**
 * Procedural backgrounds. Each is a pure function of world position (in units of the frame's shorter side), so
 * a panning camera sees one continuous landscape and the judge can paint exactly the backgrounds the renderer
 * paints. Painted canvases are cached: a background is computed once per size and camera travel, then copied.
 */
import { COLOURS, type Lighting } from './lexicon.js';
import type { Background } from './spec.js';

type Rgb = [number, number, number];

/** A painted region of world pixels: canvas pixel (0,0) is view pixel (originX, originY) at rest. */
export interface Canvas {
  width: number;
  height: number;
  originX: number;
  originY: number;
  data: Uint8Array;
}

function hash(i: number, j: number, salt: number): number {
  let h = Math.imul(i | 0, 0x27d4eb2d) ^ Math.imul(j | 0, 0x165667b1) ^ Math.imul(salt, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => {
  const s = Math.min(1, Math.max(0, t));
  return [a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, a[2] + (b[2] - a[2]) * s];
};

/** Smooth 1-D value noise in [0, 1). */
function noise1(x: number, salt: number): number {
  const i = Math.floor(x), f = x - i;
  const s = f * f * (3 - 2 * f);
  return hash(i, 0, salt) * (1 - s) + hash(i + 1, 0, salt) * s;
}

/** Colour of the background at world point (x, y); frameH is the view height in units, px the size of a pixel. */
type Painter = (x: number, y: number, frameH: number, px: number) => Rgb;

function skyGradient(top: Rgb, bottom: Rgb, y: number, horizon: number): Rgb {
  return mix(top, bottom, y / horizon);
}

function clouds(base: Rgb, x: number, y: number, frameH: number): Rgb {
  const cell = Math.floor(x / 0.55);
  if (hash(cell, 1, 11) < 0.3) return base;
  const cx = (cell + 0.2 + 0.6 * hash(cell, 2, 11)) * 0.55;
  const cy = frameH * (0.08 + 0.2 * hash(cell, 3, 11));
  const d = Math.hypot((x - cx) / 0.14, (y - cy) / 0.045);
  return d < 1 ? mix(base, [250, 250, 252], Math.min(1, (1 - d) * 3) * 0.9) : base;
}

function stars(base: Rgb, x: number, y: number, px: number): Rgb {
  const cell = 0.07;
  const i = Math.floor(x / cell), j = Math.floor(y / cell);
  if (hash(i, j, 5) > 0.35) return base;
  const sx = (i + 0.2 + 0.6 * hash(i, j, 6)) * cell, sy = (j + 0.2 + 0.6 * hash(i, j, 7)) * cell;
  const dist = Math.hypot(x - sx, y - sy) / px;
  const glow = Math.max(0, 1 - dist) * (0.5 + 0.5 * hash(i, j, 8));
  return mix(base, [255, 255, 240], glow);
}

const PAINTERS: Record<Exclude<Background['kind'], 'solid'>, Painter> = {
  sky: (x, y, h) => clouds(skyGradient([60, 120, 215], [165, 205, 245], y, h), x, y, h),

  sunset: (x, y, h, px) => {
    const horizon = 0.72 * h;
    if (y > horizon) return mix([70, 35, 55], [40, 20, 35], (y - horizon) / (h - horizon));
    let c = y < 0.4 * h ? mix([55, 35, 105], [225, 95, 85], y / (0.4 * h)) : mix([225, 95, 85], [250, 175, 80], (y - 0.4 * h) / (0.32 * h));
    const sun = Math.hypot(x - 0.62, y - horizon) / 0.13;
    if (sun < 1) c = mix(c, [255, 225, 130], Math.min(1, (1 - sun) / (px / 0.13)));
    return c;
  },

  night: (x, y, h, px) => {
    let c = stars(mix([8, 10, 30], [25, 32, 75], y / h), x, y, px);
    const moon = Math.hypot(x - 0.8, y - 0.16 * h) / 0.07;
    if (moon < 1) c = mix(c, [235, 235, 205], Math.min(1, (1 - moon) * 0.07 / px));
    return c;
  },

  snow: (x, y, h, px) => {
    const horizon = 0.5 * h;
    const ridge = horizon - h * (0.06 + 0.2 * noise1(x * 3, 21));
    if (y < ridge) return skyGradient([140, 175, 220], [205, 222, 240], y, horizon);
    if (y < horizon) {
      // snow-capped mountains, with a fringe of dark trees along the meadow's edge
      const tree = hash(Math.floor(x / 0.05), 0, 23) < 0.6 && y > horizon - 0.05 * h * (1 - Math.abs(((x / 0.05) % 1) - 0.5) * 2);
      if (tree) return [35, 70, 55];
      return y < ridge + 0.035 * h ? [238, 242, 250] : [115, 125, 155];
    }
    const shade = 0.5 + 0.5 * noise1(x * 5 + Math.floor(y / (2 * px)) * 0.37, 24);
    return mix([215, 225, 242], [242, 245, 252], shade);
  },

  grass: (x, y, h) => {
    const horizon = 0.45 * h + 0.03 * h * noise1(x * 4, 31);
    if (y < horizon) return clouds(skyGradient([80, 145, 225], [175, 215, 245], y, horizon), x, y, h);
    const blade = hash(Math.floor(x / 0.015), Math.floor(y / 0.03), 32) * 0.15;
    return mix([100, 175, 70], [40, 115, 40], (y - horizon) / (h - horizon) + blade);
  },

  sea: (x, y, h) => {
    const horizon = 0.45 * h;
    if (y < horizon) return clouds(skyGradient([90, 150, 225], [190, 220, 245], y, horizon), x, y, h);
    const depth = (y - horizon) / (h - horizon);
    const wave = Math.sin(x * 38 + Math.floor(y / 0.035) * 2.1) > 0.85 ? 0.25 : 0;
    return mix(mix([45, 120, 195], [15, 55, 125], depth), [170, 210, 240], wave);
  },

  desert: (x, y, h) => {
    const dune = 0.55 * h + 0.05 * h * Math.sin(x * 6.5) + 0.02 * h * noise1(x * 3, 41);
    if (y < dune) return skyGradient([115, 175, 235], [215, 225, 235], y, dune);
    const shadow = y < dune + 0.08 * h * (0.5 + 0.5 * Math.sin(x * 9 + 1)) ? 0 : 1;
    return shadow ? [232, 192, 122] : [212, 165, 98];
  },

  city: (x, y, h) => {
    const street = 0.82 * h;
    const col = Math.floor(x / 0.2);
    const roof = h * (0.15 + 0.4 * hash(col, 0, 51));
    const neonColours: Rgb[] = [[255, 60, 180], [60, 230, 255], [255, 120, 40], [150, 255, 90]];
    const neon = neonColours[Math.floor(hash(col, 1, 51) * 4)]!;
    if (y >= street) {
      // wet street: the neon signs reflected in faint vertical streaks
      const streak = Math.abs(((x / 0.2) % 1) - 0.5) < 0.12 ? 0.25 : 0;
      return mix([28, 26, 38], neon, streak * (1 - (y - street) / (h - street)));
    }
    const left = (x / 0.2) % 1;
    if (y < roof || left < 0.06) return mix([12, 8, 30], [45, 22, 65], y / street);
    const signTop = roof + 0.04 * h;
    if (y > signTop && y < signTop + 0.06 * h && left > 0.2 && left < 0.8) return neon;
    const wx = Math.floor(x / 0.035), wy = Math.floor(y / 0.05);
    const inWindow = (x / 0.035) % 1 > 0.35 && (y / 0.05) % 1 > 0.4;
    if (inWindow) return hash(wx, wy, 52) < 0.35 ? [245, 205, 115] : [48, 46, 72];
    return [30, 27, 50];
  },
};

/** Night is a multiplicative blue tint on everything in the frame. */
export const LIGHT_TINT: Record<Lighting, Rgb> = { day: [1, 1, 1], night: [0.42, 0.48, 0.78] };

const cache = new Map<string, Canvas>();
const CACHE_LIMIT = 256;

/**
 * The background painted over view pixels [originX, originX+width) x [originY, originY+height) of a frame of
 * size viewW x viewH. Cached, so treat the result as read-only.
 */
export function paintBackground(
  bg: Background, lighting: Lighting, viewW: number, viewH: number, originX = 0, originY = 0, width = viewW, height = viewH,
): Canvas {
  const key = `${bg.kind}:${bg.colour ?? ''}:${lighting}:${viewW}x${viewH}:${originX},${originY},${width},${height}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const data = new Uint8Array(width * height * 3);
  if (bg.kind === 'solid') {
    const c = COLOURS[bg.colour ?? 'white'];
    for (let i = 0; i < width * height; i++) { data[i * 3] = c[0]; data[i * 3 + 1] = c[1]; data[i * 3 + 2] = c[2]; }
    applyTint(data, LIGHT_TINT[lighting]);
  } else {
    const painter = PAINTERS[bg.kind];
    const unit = Math.min(viewW, viewH);
    const frameH = viewH / unit, px = 1 / unit;
    for (let j = 0; j < height; j++) {
      const y = (originY + j + 0.5) / unit;
      for (let i = 0; i < width; i++) {
        const c = painter((originX + i + 0.5) / unit, y, frameH, px);
        const o = (j * width + i) * 3;
        data[o] = c[0]; data[o + 1] = c[1]; data[o + 2] = c[2];
      }
    }
    applyTint(data, LIGHT_TINT[lighting]);
  }
  const canvas = { width, height, originX, originY, data };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, canvas);
  return canvas;
}

function applyTint(data: Uint8Array, tint: Rgb): void {
  if (tint[0] === 1 && tint[1] === 1 && tint[2] === 1) return;
  for (let i = 0; i < data.length; i += 3) {
    data[i] = Math.round(data[i]! * tint[0]);
    data[i + 1] = Math.round(data[i + 1]! * tint[1]);
    data[i + 2] = Math.round(data[i + 2]! * tint[2]);
  }
}
