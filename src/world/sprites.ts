/**
 * The curated Twemoji sprites, decoded once and kept in memory as premultiplied RGBA with a small mip chain
 * (64, 32, 16 px) so that drawing a 20-px elephant samples a 32-px picture instead of aliasing a 64-px one.
 * PNGs are decoded synchronously here (zlib + PNG filters) so that rendering stays a plain synchronous call.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { TesseraError } from '../errors.js';
import { SPRITES, type SpriteInfo } from './lexicon.js';

/** One mip level: side x side premultiplied RGBA floats in 0..255 (alpha in 0..1). */
export interface SpriteLevel {
  side: number;
  rgba: Float32Array;
}

export interface Sprite {
  info: SpriteInfo;
  /** Largest first. */
  levels: SpriteLevel[];
}

let cache: Map<string, Sprite> | null = null;

function spriteDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('emoji-datasource-twitter/package.json')), 'img', 'twitter', '64');
}

/** Every curated sprite, loaded on first use. */
export function sprites(): Map<string, Sprite> {
  if (cache) return cache;
  const dir = spriteDir();
  const map = new Map<string, Sprite>();
  for (const info of SPRITES) {
    const file = join(dir, info.image);
    const png = decodePng(readFileSync(file), file);
    const base = premultiply(png.rgba, png.width);
    const levels: SpriteLevel[] = [{ side: png.width, rgba: base }];
    while (levels[levels.length - 1]!.side > 16) levels.push(halve(levels[levels.length - 1]!));
    map.set(info.name, { info, levels });
  }
  cache = map;
  return map;
}

export function sprite(name: string): Sprite {
  const s = sprites().get(name);
  if (!s) throw new TesseraError('invalid_argument', `sprite '${name}' is not in the curated set`, { param: 'kind' });
  return s;
}

/** The smallest level still at least `px` wide (sampling it never skips texels). */
export function levelFor(s: Sprite, px: number): SpriteLevel {
  let best = s.levels[0]!;
  for (const l of s.levels) if (l.side >= px) best = l;
  return best;
}

function premultiply(rgba8: Uint8Array, side: number): Float32Array {
  const out = new Float32Array(side * side * 4);
  for (let i = 0; i < side * side; i++) {
    const a = rgba8[i * 4 + 3]! / 255;
    out[i * 4] = rgba8[i * 4]! * a;
    out[i * 4 + 1] = rgba8[i * 4 + 1]! * a;
    out[i * 4 + 2] = rgba8[i * 4 + 2]! * a;
    out[i * 4 + 3] = a;
  }
  return out;
}

function halve(l: SpriteLevel): SpriteLevel {
  const side = l.side >> 1;
  const out = new Float32Array(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      for (let c = 0; c < 4; c++) {
        const at = (yy: number, xx: number) => l.rgba[(yy * l.side + xx) * 4 + c]!;
        out[(y * side + x) * 4 + c] = 0.25 * (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1));
      }
    }
  }
  return { side, rgba: out };
}

// ---------------------------------------------------------------------------------------------------------------
// PNG decoding (non-interlaced; greyscale, RGB, palette with tRNS, grey+alpha, RGBA; palette at 1/2/4/8 bits)

export function decodePng(buf: Buffer, name = 'png'): { width: number; height: number; rgba: Uint8Array } {
  const bad = (why: string) => new TesseraError('corrupt_file', `${name}: ${why}`);
  if (buf.readUInt32BE(0) !== 0x89504e47) throw bad('not a PNG file');
  let width = 0, height = 0, depth = 0, colourType = 0;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8]!;
      colourType = body[9]!;
      if (body[12] !== 0) throw bad('interlaced PNGs are not supported');
    } else if (type === 'PLTE') palette = new Uint8Array(body);
    else if (type === 'tRNS') transparency = new Uint8Array(body);
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType];
  if (!channels || (colourType !== 3 && depth !== 8)) throw bad(`unsupported colour type ${colourType} at ${depth} bits`);
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const raw = inflateSync(Buffer.concat(idat));
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? rows[dst + x - bpp]! : 0;
      const up = y > 0 ? rows[dst - stride + x]! : 0;
      const upLeft = y > 0 && x >= bpp ? rows[dst - stride + x - bpp]! : 0;
      let pred = 0;
      if (filter === 1) pred = left;
      else if (filter === 2) pred = up;
      else if (filter === 3) pred = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left), pb = Math.abs(p - up), pc = Math.abs(p - upLeft);
        pred = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      rows[dst + x] = (raw[src + x]! + pred) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const r = y * stride;
      if (colourType === 3) {
        const perByte = 8 / depth;
        const byte = rows[r + Math.floor(x / perByte)]!;
        const shift = 8 - depth * ((x % perByte) + 1);
        const idx = (byte >> shift) & ((1 << depth) - 1);
        rgba[o] = palette![idx * 3]!;
        rgba[o + 1] = palette![idx * 3 + 1]!;
        rgba[o + 2] = palette![idx * 3 + 2]!;
        rgba[o + 3] = transparency && idx < transparency.length ? transparency[idx]! : 255;
      } else {
        const p = r + x * channels;
        const grey = colourType === 0 || colourType === 4;
        rgba[o] = rows[p]!;
        rgba[o + 1] = grey ? rows[p]! : rows[p + 1]!;
        rgba[o + 2] = grey ? rows[p]! : rows[p + 2]!;
        rgba[o + 3] = colourType === 6 ? rows[p + 3]! : colourType === 4 ? rows[p + 1]! : 255;
      }
    }
  }
  return { width, height, rgba };
}
