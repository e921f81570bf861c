/**
 * An infinite, deterministic stream of (clip, caption) pairs from the simulated world. Sample i is a pure function
 * of (seed, i): its bucket, scene, caption level and wording all come from `Rng(seed).fork(i)`, so the stream
 * resumes exactly from a cursor and two workers with different seeds never repeat each other.
 *
 * Held-out combinations (say a red star that spins) never appear in the 'train' split; the 'heldout' split yields
 * only scenes that contain one, so compositional generalisation can be measured on combinations never seen.
 */
import { Rng } from '../engine/random.js';
import { invalidArgument } from '../errors.js';
import type { VideoClip } from '../media/types.js';
import { captionSpec, pickCaptionLevel, type CaptionLevel } from '../world/caption.js';
import { COLOUR_NAMES, MOTIONS, MOTION_DIRECTIONS, isShape, spriteInfo, type ColourName, type MotionType } from '../world/lexicon.js';
import { renderScene } from '../world/render.js';
import { MAX_SIDE, MIN_SIDE, randomSpec, startPosition, visibleColours, type ObjectSpec, type SceneMix, type SceneSpec } from '../world/spec.js';

export interface Bucket {
  width: number;
  height: number;
  frames: number;
  /** Relative sampling weight (default 1). */
  weight?: number;
  fps?: number;
}

/** A combination of attributes; an object matches when every given field matches. */
export interface HeldOutCombo {
  kind?: string;
  colour?: ColourName;
  motion?: MotionType;
}

export interface WorldDatasetOptions {
  buckets: Bucket[];
  seed?: number;
  heldOut?: HeldOutCombo[];
  split?: 'train' | 'heldout';
  /** Weights of caption levels, e.g. { short: 0.2, medium: 0.3, dense: 0.5 }. */
  captionLevels?: Partial<Record<CaptionLevel, number>>;
  maxObjects?: number;
  /** Biases the scenes drawn (object counts, sizes, weather); absent, the uniform draw. */
  mix?: SceneMix;
}

export interface WorldSample {
  clip: VideoClip;
  caption: string;
  level: CaptionLevel;
  spec: SceneSpec;
  bucket: Bucket;
  /** Position of this sample in the stream. */
  index: number;
}

export interface WorldCursor {
  seed: number;
  index: number;
}

export function matchesCombo(o: ObjectSpec, c: HeldOutCombo): boolean {
  return (c.kind === undefined || o.kind === c.kind) && (c.colour === undefined || o.colour === c.colour) && (c.motion === undefined || o.motion.type === c.motion);
}

const MAX_TRIES = 64;

export class WorldDataset {
  private readonly buckets: Required<Bucket>[];
  private readonly seed: number;
  private readonly heldOut: HeldOutCombo[];
  private readonly split: 'train' | 'heldout';
  private readonly levels: Partial<Record<CaptionLevel, number>> | undefined;
  private readonly maxObjects: number | undefined;
  private readonly mix: SceneMix | undefined;
  private index = 0;

  constructor(opts: WorldDatasetOptions) {
    if (!Array.isArray(opts.buckets) || opts.buckets.length === 0) throw invalidArgument('buckets', 'expected at least one {width, height, frames}');
    this.buckets = opts.buckets.map((b, i) => {
      for (const side of ['width', 'height'] as const) {
        const v = b[side];
        if (!Number.isInteger(v) || v % 16 !== 0 || v < MIN_SIDE || v > MAX_SIDE) throw invalidArgument(`buckets[${i}].${side}`, `expected a multiple of 16 in [${MIN_SIDE}, ${MAX_SIDE}], got ${v}`);
      }
      if (!Number.isInteger(b.frames) || b.frames < 1) throw invalidArgument(`buckets[${i}].frames`, `expected a positive integer, got ${b.frames}`);
      const weight = b.weight ?? 1;
      if (!(weight >= 0)) throw invalidArgument(`buckets[${i}].weight`, `expected a non-negative number, got ${b.weight}`);
      return { ...b, weight, fps: b.fps ?? 8 };
    });
    if (this.buckets.every((b) => b.weight === 0)) throw invalidArgument('buckets', 'at least one bucket needs a positive weight');
    this.seed = opts.seed ?? 0;
    this.heldOut = opts.heldOut ?? [];
    for (const [i, c] of this.heldOut.entries()) {
      if (c.kind === undefined && c.colour === undefined && c.motion === undefined) throw invalidArgument(`heldOut[${i}]`, 'expected at least one of kind, colour, motion');
      if (c.motion !== undefined && !MOTIONS.includes(c.motion)) throw invalidArgument(`heldOut[${i}].motion`, `unknown motion ${c.motion}`);
      if (c.colour !== undefined && !COLOUR_NAMES.includes(c.colour)) throw invalidArgument(`heldOut[${i}].colour`, `unknown colour ${c.colour}`);
      if (c.kind !== undefined && !isShape(c.kind) && !spriteInfo(c.kind)) throw invalidArgument(`heldOut[${i}].kind`, `unknown kind ${c.kind}`);
    }
    this.split = opts.split ?? 'train';
    if (this.split === 'heldout' && this.heldOut.length === 0) throw invalidArgument('heldOut', "the 'heldout' split needs at least one held-out combination");
    this.levels = opts.captionLevels;
    this.maxObjects = opts.maxObjects;
    this.mix = opts.mix;
  }

  cursor(): WorldCursor {
    return { seed: this.seed, index: this.index };
  }

  seek(cursor: WorldCursor): void {
    if (cursor.seed !== this.seed) throw invalidArgument('cursor.seed', `this stream has seed ${this.seed}, the cursor ${cursor.seed}`);
    if (!Number.isInteger(cursor.index) || cursor.index < 0) throw invalidArgument('cursor.index', `expected a non-negative integer, got ${cursor.index}`);
    this.index = cursor.index;
  }

  /** The scene and caption of sample i, without rendering (cheap: for inspecting a stream). */
  describe(index: number): Omit<WorldSample, 'clip'> {
    const rng = new Rng(this.seed).fork(index);
    const bucket = this.pickBucket(rng);
    let spec: SceneSpec | undefined;
    for (let attempt = 0; attempt < MAX_TRIES && !spec; attempt++) {
      const candidate = randomSpec(rng.int(2 ** 31), { width: bucket.width, height: bucket.height, frames: bucket.frames, fps: bucket.fps, maxObjects: this.maxObjects, mix: this.mix });
      spec = this.split === 'train' ? (this.isHeldOut(candidate) ? undefined : candidate) : this.forceHeldOut(candidate, rng);
    }
    if (!spec) throw invalidArgument('heldOut', 'the held-out combinations exclude almost every scene; hold out fewer');
    const level = pickCaptionLevel(rng, this.levels);
    return { caption: captionSpec(spec, level, rng.int(2 ** 31)), level, spec, bucket, index };
  }

  next(): WorldSample {
    const sample = this.describe(this.index++);
    return { ...sample, clip: renderScene(sample.spec) };
  }

  private isHeldOut(spec: SceneSpec): boolean {
    return spec.objects.some((o) => this.heldOut.some((c) => matchesCombo(o, c)));
  }

  /** Turns the first object into one held-out combination (keeping it drawable and visible). */
  private forceHeldOut(spec: SceneSpec, rng: Rng): SceneSpec | undefined {
    const combo = rng.pick(this.heldOut);
    const o = spec.objects[0]!;
    if (combo.kind) o.kind = combo.kind;
    if (isShape(o.kind)) o.colour = combo.colour ?? o.colour ?? rng.pick(visibleColours(spec.background, spec.lighting));
    else if (combo.colour) return undefined; // sprites have no colour to hold out
    else delete o.colour;
    if (combo.motion) {
      o.motion = { type: combo.motion, speed: o.motion.speed };
      const dirs = MOTION_DIRECTIONS[combo.motion];
      if (dirs) o.motion.direction = rng.pick(dirs);
      o.position = startPosition(rng, o.motion);
    }
    return matchesCombo(o, combo) ? spec : undefined;
  }

  private pickBucket(rng: Rng): Required<Bucket> {
    const total = this.buckets.reduce((s, b) => s + b.weight, 0);
    let u = rng.uniform() * total;
    for (const b of this.buckets) {
      u -= b.weight;
      if (u < 0) return b;
    }
    return this.buckets[this.buckets.length - 1]!;
  }
}
