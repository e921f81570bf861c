/**
 * Parsing and checking of command-line option values shared by the commands. Each parser takes the raw string
 * commander hands over and returns a typed value, or throws invalidArgument naming the flag, what was expected,
 * and what was given, which the CLI prints as one line.
 */
import { randomInt } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { formatFromPath, type MediaFormat } from '../media/formats.js';
import { isGuidanceInterval } from '../pipelines/request.js';

export interface Size {
  width: number;
  height: number;
}

export interface SizeLimits {
  /** The flag named in errors. */
  name?: string;
  /** Both sides must be multiples of this (e.g. the VAE's downsampling factor times the patch size). */
  multipleOf?: number;
  min?: number;
  max?: number;
}

/** "128x96" (or "128X96", "128×96") -> { width: 128, height: 96 }; a single number "128" means a square. */
export function parseSize(value: string, limits: SizeLimits = {}): Size {
  const { name = '--size', multipleOf = 1, min = 1, max = 4096 } = limits;
  const match = /^\s*(\d+)\s*(?:[x×X]\s*(\d+))?\s*$/.exec(value);
  const expected = `WIDTHxHEIGHT in pixels (e.g. 128x128), each from ${min} to ${max}${multipleOf > 1 ? ` and a multiple of ${multipleOf}` : ''}`;
  if (match === null) throw invalidArgument(name, `expected ${expected}, got "${value}"`);
  const width = Number(match[1]);
  const height = Number(match[2] ?? match[1]);
  for (const side of [width, height]) {
    if (side < min || side > max || side % multipleOf !== 0) throw invalidArgument(name, `expected ${expected}, got "${value}"`);
  }
  return { width, height };
}

export interface DurationLimits {
  name?: string;
  /** Most frames allowed. */
  maxFrames?: number;
}

/**
 * A clip length as a frame count: "17" or "17f" are frames, "2s" / "1.5s" / "500ms" are times converted at `fps`
 * (rounded to the nearest frame, at least one).
 */
export function parseDuration(value: string, fps: number, limits: DurationLimits = {}): number {
  const { name = '--duration', maxFrames = 100_000 } = limits;
  if (!(fps > 0 && Number.isFinite(fps))) throw invalidArgument('fps', `expected a positive number, got ${fps}`);
  const expected = `a frame count (e.g. 17) or a time (e.g. 2s, 500ms), at most ${maxFrames} frames`;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(f|s|ms)?\s*$/.exec(value);
  if (match === null) throw invalidArgument(name, `expected ${expected}, got "${value}"`);
  const amount = Number(match[1]);
  const unit = match[2] ?? 'f';
  if (unit === 'f' && !Number.isInteger(amount)) throw invalidArgument(name, `expected a whole number of frames, got "${value}"`);
  const seconds = unit === 's' ? amount : unit === 'ms' ? amount / 1000 : undefined;
  const frames = seconds === undefined ? amount : Math.max(1, Math.round(seconds * fps));
  if (frames < 1 || frames > maxFrames) throw invalidArgument(name, `expected ${expected}, got "${value}" (${frames} frames)`);
  return frames;
}

/** Seeds are drawn from [0, 2^32) when not given: short enough to read back and retype. */
const RANDOM_SEED_LIMIT = 2 ** 32;

/**
 * The seed to use: the given non-negative integer, or a fresh one from the OS's secure random source when the
 * option is absent, empty or "random". Printing it, so a run can be repeated, is the caller's job.
 */
export function parseSeed(value?: string, name = '--seed'): number {
  if (value === undefined || value.trim() === '' || value.trim().toLowerCase() === 'random') return randomInt(RANDOM_SEED_LIMIT);
  const trimmed = value.trim();
  const seed = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(seed)) {
    throw invalidArgument(name, `expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER} or "random", got "${value}"`);
  }
  return seed;
}

/** A whole number in [lo, hi]. */
export function parseIntInRange(name: string, value: string, lo: number, hi: number): number {
  const trimmed = value.trim();
  const parsed = Number(trimmed);
  if (!/^[+-]?\d+$/.test(trimmed) || parsed < lo || parsed > hi) {
    throw invalidArgument(name, `expected a whole number from ${lo} to ${hi}, got "${value}"`);
  }
  return parsed;
}

/** A decimal number in [lo, hi] (guidance scale, strength...). */
export function parseFloatInRange(name: string, value: string, lo: number, hi: number): number {
  const trimmed = value.trim();
  const parsed = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(parsed) || parsed < lo || parsed > hi) {
    throw invalidArgument(name, `expected a number from ${lo} to ${hi}, got "${value}"`);
  }
  return parsed;
}

/** `LOW,HIGH`: the flow times between which guidance applies, 0 <= LOW < HIGH <= 1. */
export function parseGuidanceInterval(value: string, name = '--guidance-interval'): [number, number] {
  const parts = value.split(',').map((p) => p.trim());
  const interval = parts.map(Number);
  if (parts.some((p) => p === '') || !isGuidanceInterval(interval)) {
    throw invalidArgument(name, `expected LOW,HIGH with 0 <= LOW < HIGH <= 1 (flow times, 1 = pure noise), got "${value}"`);
  }
  return interval;
}

export interface OutputTarget {
  path: string;
  format: MediaFormat;
}

/** An output path and the format its extension selects; the error lists the supported extensions. */
export function parseOutputPath(value: string, name = '--output'): OutputTarget {
  if (value.trim() === '') throw invalidArgument(name, 'expected a file path, got an empty string');
  return { path: value, format: formatFromPath(value, name) };
}
