/**
 * Checks a GenerationRequest against what a model can do and settles the sizes it will really be sampled at.
 * Every rejection names the field and what was expected.
 */
import { invalidArgument } from '../errors.js';
import { SCHEDULER_NAMES, isNoiseCorrelation, NOISE_CORRELATION_RANGE } from '../diffusion/index.js';
import type { GenerationRequest } from './types.js';

/** What a model folder says about itself (model_index.json, "tessera" section). */
export interface ModelCapabilities {
  /** Sizes the model was trained on; any multiple of 16 within [minSide, maxSide] also works (RoPE). */
  nativeSizes: { width: number; height: number }[];
  minSide: number;
  maxSide: number;
  /** Longest clip sampled in one pass (pixel frames, 1 + 4k); longer outputs are made by extension. */
  maxFrames: number;
  /** Pixel frames per latent frame (the VAE's temporal compression). */
  temporalCompression: number;
  /** Pixels per latent cell along each side (VAE spatial compression x DiT patch). */
  sizeMultiple: number;
  defaults: {
    width: number; height: number; frames: number; fps: number; steps: number; guidanceScale: number;
    /** Flow times guidance applies between when a request does not say; absent: every step. */
    guidanceInterval?: [number, number];
  };
}

export const MAX_OUTPUT_FRAMES = 481;
export const MAX_PROMPT_CHARS = 2000;

export interface SamplingPlan {
  /** Size the model samples at. */
  width: number;
  height: number;
  /** Size the caller gets (resized from the sampled one when they differ). */
  outWidth: number;
  outHeight: number;
  /** Frames the caller gets. */
  frames: number;
  /** Frames of one sampling pass (1 + 4k, at least `frames` unless the clip is made by extension). */
  passFrames: number;
}

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw invalidArgument(name, `expected an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkNumber(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw invalidArgument(name, `expected a number from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Rounds frames up to the next count the causal VAE maps exactly (1 + k * temporalCompression). */
export function alignFrames(frames: number, temporalCompression: number): number {
  return 1 + temporalCompression * Math.ceil((frames - 1) / temporalCompression);
}

/** The sampling size for a requested output size: itself when the model supports it, else the nearest supported size of the same aspect. */
export function samplingSize(width: number, height: number, caps: ModelCapabilities): { width: number; height: number } {
  const m = caps.sizeMultiple;
  const ok = (s: number) => s % m === 0 && s >= caps.minSide && s <= caps.maxSide;
  if (ok(width) && ok(height)) return { width, height };
  // keep the aspect ratio, fit the larger side into the supported range, round to the multiple
  const aspect = width / height;
  let w: number, h: number;
  const area = Math.min(width * height, caps.maxSide * caps.maxSide);
  h = Math.sqrt(area / aspect);
  w = h * aspect;
  const scale = Math.min(1, caps.maxSide / Math.max(w, h));
  w *= scale;
  h *= scale;
  const round = (s: number) => Math.min(caps.maxSide, Math.max(caps.minSide, Math.round(s / m) * m));
  return { width: round(w), height: round(h) };
}

export function planSampling(req: GenerationRequest, caps: ModelCapabilities): SamplingPlan {
  if (typeof req.prompt !== 'string') throw invalidArgument('prompt', 'expected a string');
  if (req.prompt.length > MAX_PROMPT_CHARS) {
    throw invalidArgument('prompt', `expected at most ${MAX_PROMPT_CHARS} characters, got ${req.prompt.length}`);
  }
  if (req.negativePrompt !== undefined && typeof req.negativePrompt !== 'string') {
    throw invalidArgument('negative_prompt', 'expected a string');
  }
  const outWidth = checkInt('width', req.width, 16, 4096);
  const outHeight = checkInt('height', req.height, 16, 4096);
  const frames = checkInt('frames', req.frames, 1, MAX_OUTPUT_FRAMES);
  checkInt('fps', req.fps, 1, 120);
  checkInt('steps', req.steps, 1, 500);
  checkNumber('guidance_scale', req.guidanceScale, 0, 50);
  checkInt('seed', req.seed, 0, 2 ** 32 - 1);
  if (!SCHEDULER_NAMES.includes(req.sampler)) {
    throw invalidArgument('sampler', `expected one of ${SCHEDULER_NAMES.map((n) => `"${n}"`).join(', ')}, got ${JSON.stringify(req.sampler)}`);
  }
  if (req.eta !== undefined) checkNumber('eta', req.eta, 0, 1);
  if (req.guidanceInterval !== undefined) checkGuidanceInterval(req.guidanceInterval);
  if (req.noiseCorrelation !== undefined && !isNoiseCorrelation(req.noiseCorrelation)) {
    throw invalidArgument('noise_correlation', `expected ${NOISE_CORRELATION_RANGE}, got ${JSON.stringify(req.noiseCorrelation)}`);
  }
  for (const [i, c] of (req.conditions ?? []).entries()) {
    checkNumber(`conditions[${i}].strength`, c.strength, 0, 1);
    if (!Number.isInteger(c.frameIndex) || c.frameIndex >= frames || c.frameIndex < -frames) {
      throw invalidArgument(`conditions[${i}].frame_index`, `expected an integer in [-${frames}, ${frames - 1}], got ${c.frameIndex}`);
    }
    if (c.clip.frames < 1) throw invalidArgument(`conditions[${i}]`, 'the conditioning clip has no frames');
  }
  if (req.edit) {
    checkNumber('edit.strength', req.edit.strength, 0, 1);
    if (req.edit.clip.frames < 1) throw invalidArgument('video', 'the video to edit has no frames');
  }
  const { width, height } = samplingSize(outWidth, outHeight, caps);
  const aligned = alignFrames(frames, caps.temporalCompression);
  const passFrames = Math.min(aligned, caps.maxFrames);
  return { width, height, outWidth, outHeight, frames, passFrames };
}

/** `[low, high]`, flow times with 0 <= low < high <= 1. */
export function isGuidanceInterval(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && x >= 0 && x <= 1) && v[0] < v[1];
}

export function checkGuidanceInterval(v: unknown, name = 'guidance_interval'): [number, number] {
  if (!isGuidanceInterval(v)) throw invalidArgument(name, `expected two flow times [low, high] with 0 <= low < high <= 1, got ${JSON.stringify(v)}`);
  return v;
}
