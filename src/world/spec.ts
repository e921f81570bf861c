/**
 * Scene spec: the plain-JSON description of one clip of the world. Everything the renderer draws, the recaptioner
 * says and the judge checks is a field here. `validateSpec` turns untrusted JSON into a SceneSpec (with defaults
 * filled) or throws an error naming the field; `randomSpec` draws a scene from a seed.
 */
import { invalidArgument } from '../errors.js';
import { Rng } from '../engine/random.js';
import { simulate, type Pose } from './simulate.js';
import { MIN_OBJECT_PX, shownFaithfully } from './visibility.js';
import {
  BACKGROUNDS, CAMERAS, COLOURS, COLOUR_NAMES, LIGHTINGS, MOTIONS, MOTION_DIRECTIONS, SHAPES, SIZES, SIZE_FRACTION,
  SOLID_BACKGROUND_COLOURS, SPEEDS, SPRITES, SPRITE_NAMES, WEATHERS, isShape, spriteInfo,
  type BackgroundKind, type CameraMotion, type ColourName, type Direction, type Lighting, type MotionType, type SizeName,
  type Speed, type Weather,
} from './lexicon.js';

export interface Motion {
  type: MotionType;
  /** For move, fly, walk and run. */
  direction?: Direction;
  speed: Speed;
}

export interface Physics {
  /** Bounciness on the floor and walls, 0..1. */
  restitution: number;
  /** Whether the object collides with other colliding objects (otherwise it may pass behind or in front). */
  collide: boolean;
  /** Drawing order: larger is nearer the camera. */
  depth: number;
}

export interface ObjectSpec {
  /** A shape (circle, square, ...) or a sprite name (elephant, rocket, ...). */
  kind: string;
  /** Shapes only: sprites keep their own colours. */
  colour?: ColourName;
  size: SizeName;
  /** Centre at the first frame, as fractions of the frame (0,0 top left). */
  position: { x: number; y: number };
  motion: Motion;
  physics: Physics;
}

export interface Background {
  kind: BackgroundKind;
  /** Only for kind 'solid'. */
  colour?: ColourName;
}

export interface SceneSpec {
  width: number;
  height: number;
  fps: number;
  /** 1 for an image. */
  frames: number;
  /** Drives weather particles; the rest of the scene is explicit. */
  seed: number;
  background: Background;
  camera: CameraMotion;
  weather: Weather;
  lighting: Lighting;
  objects: ObjectSpec[];
}

export const MIN_SIDE = 32;
export const MAX_SIDE = 256;
export const MAX_OBJECTS = 4;
export const MAX_FRAMES = 256;

// ---------------------------------------------------------------------------------------------------------------
// Validation

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(v: Json, allowed: readonly T[], field: string, fallback?: T): T {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalidArgument(field, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function numberIn(v: Json, lo: number, hi: number, field: string, fallback?: number, integer = false): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw invalidArgument(field, `expected ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function side(v: Json, field: string, fallback: number): number {
  const n = numberIn(v, MIN_SIDE, MAX_SIDE, field, fallback, true);
  if (n % 16 !== 0) throw invalidArgument(field, `expected a multiple of 16 in [${MIN_SIDE}, ${MAX_SIDE}], got ${n}`);
  return n;
}

function validateMotion(v: Json, field: string): Motion {
  const m: Record<string, Json> = typeof v === 'string' ? { type: v } : isObject(v) ? v : {};
  if (!isObject(v) && typeof v !== 'string' && v !== undefined) throw invalidArgument(field, 'expected an object {type, direction?, speed?} or a motion name');
  const type = oneOf(m.type, MOTIONS, `${field}.type`, 'stay');
  const allowed = MOTION_DIRECTIONS[type];
  const motion: Motion = { type, speed: oneOf(m.speed, SPEEDS, `${field}.speed`, 'normal') };
  if (allowed) motion.direction = oneOf(m.direction, allowed, `${field}.direction`, allowed[0]);
  else if (m.direction !== undefined) throw invalidArgument(`${field}.direction`, `motion '${type}' takes no direction`);
  return motion;
}

function validateObject(v: Json, field: string): ObjectSpec {
  if (!isObject(v)) throw invalidArgument(field, 'expected an object');
  const kind = v.kind;
  if (typeof kind !== 'string' || (!isShape(kind) && !spriteInfo(kind))) {
    throw invalidArgument(`${field}.kind`, `expected a shape (${SHAPES.join(', ')}) or a sprite (${SPRITE_NAMES.join(', ')}), got ${JSON.stringify(kind)}`);
  }
  const obj: ObjectSpec = {
    kind,
    size: oneOf(v.size, SIZES, `${field}.size`, 'medium'),
    position: { x: 0.5, y: 0.5 },
    motion: validateMotion(v.motion, `${field}.motion`),
    physics: { restitution: 0.8, collide: true, depth: 0 },
  };
  if (isShape(kind)) obj.colour = oneOf(v.colour, COLOUR_NAMES, `${field}.colour`, 'red');
  else if (v.colour !== undefined) throw invalidArgument(`${field}.colour`, `sprite '${kind}' keeps its own colours; remove colour`);
  if (v.position !== undefined) {
    if (!isObject(v.position)) throw invalidArgument(`${field}.position`, 'expected {x, y} as fractions of the frame');
    obj.position = { x: numberIn(v.position.x, 0, 1, `${field}.position.x`), y: numberIn(v.position.y, 0, 1, `${field}.position.y`) };
  }
  if (v.physics !== undefined) {
    if (!isObject(v.physics)) throw invalidArgument(`${field}.physics`, 'expected {restitution?, collide?, depth?}');
    const p = v.physics;
    obj.physics.restitution = numberIn(p.restitution, 0, 1, `${field}.physics.restitution`, 0.8);
    if (p.collide !== undefined && typeof p.collide !== 'boolean') throw invalidArgument(`${field}.physics.collide`, 'expected true or false');
    obj.physics.collide = p.collide === undefined ? true : p.collide;
    obj.physics.depth = numberIn(p.depth, -100, 100, `${field}.physics.depth`, 0);
  }
  return obj;
}

/** Checks untrusted JSON and returns a complete SceneSpec; throws TesseraError('invalid_argument') naming the field. */
export function validateSpec(v: Json): SceneSpec {
  if (!isObject(v)) throw invalidArgument('spec', 'expected a JSON object');
  const bg = typeof v.background === 'string' ? { kind: v.background } : v.background;
  if (bg !== undefined && !isObject(bg)) throw invalidArgument('background', 'expected a background name or {kind, colour?}');
  const background: Background = { kind: oneOf(bg?.kind, BACKGROUNDS, 'background.kind', 'sky') };
  if (background.kind === 'solid') background.colour = oneOf(bg?.colour, COLOUR_NAMES, 'background.colour', 'white');
  else if (bg?.colour !== undefined) throw invalidArgument('background.colour', `only a solid background takes a colour`);
  if (!Array.isArray(v.objects) || v.objects.length < 1 || v.objects.length > MAX_OBJECTS) {
    throw invalidArgument('objects', `expected an array of 1 to ${MAX_OBJECTS} objects`);
  }
  return {
    width: side(v.width, 'width', 64),
    height: side(v.height, 'height', 64),
    fps: numberIn(v.fps, 1, 60, 'fps', 8),
    frames: numberIn(v.frames, 1, MAX_FRAMES, 'frames', 16, true),
    seed: numberIn(v.seed, 0, 2 ** 32 - 1, 'seed', 0, true),
    background,
    camera: oneOf(v.camera, CAMERAS, 'camera', 'still'),
    weather: oneOf(v.weather, WEATHERS, 'weather', 'clear'),
    lighting: oneOf(v.lighting, LIGHTINGS, 'lighting', 'day'),
    objects: v.objects.map((o, i) => validateObject(o, `objects[${i}]`)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random scenes

/** Representative colours of each background, for keeping objects visible against it. */
export const BACKGROUND_TONES: Record<Exclude<BackgroundKind, 'solid'>, ColourName[]> = {
  sky: ['cyan', 'white', 'blue'],
  sunset: ['orange', 'pink', 'purple'],
  night: ['black', 'blue'],
  snow: ['white', 'grey', 'cyan'],
  grass: ['green', 'cyan'],
  sea: ['blue', 'cyan'],
  desert: ['yellow', 'orange'],
  city: ['black', 'purple'],
};

/** Colours a shape may take on this background and still be found by eye and by the judge. */
export function visibleColours(bg: Background, lighting: Lighting): ColourName[] {
  const tones = bg.kind === 'solid' ? [bg.colour!] : BACKGROUND_TONES[bg.kind];
  const dark = lighting === 'night' || bg.kind === 'night' || bg.kind === 'city';
  return COLOUR_NAMES.filter((c) => {
    if (dark && (c === 'black' || c === 'brown' || c === 'grey' || c === 'blue' || c === 'purple')) return false;
    return tones.every((t) => colourDistance(COLOURS[c], COLOURS[t]) > 110);
  });
}

function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

export interface RandomSpecOptions {
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
  /** How many objects at most (1-4). */
  maxObjects?: number;
  /** Probability that an object is a sprite rather than a shape. */
  spriteProbability?: number;
  /** Biases the draw towards some kinds of scene (see SceneMix); absent, every choice is uniform. */
  mix?: SceneMix;
}

/**
 * Relative weights that shift what random scenes contain, so a training stream can match the scenes it will be
 * asked for (the eval prompts and a short prompt's defaults are mostly one or two medium objects in clear
 * weather) instead of the uniform draw (a quarter of scenes with four objects, half of the objects small). A
 * field left out keeps the uniform draw, and with no mix at all the stream is exactly the unbiased one.
 */
export interface SceneMix {
  /** Weights of 1, 2, ... objects, e.g. [3, 2, 1]: one object three times as often as three, never four. */
  objectCounts?: number[];
  /** Weights of object sizes among those that fit the frame. */
  sizes?: Partial<Record<SizeName, number>>;
  /** Probability of clear weather (uniform draw: 0.7); rain and snow share the rest. */
  clearWeather?: number;
  /** Weights of background kinds, e.g. {"solid": 8}: a kind left out weighs 1 (uniform draw: all alike). */
  backgrounds?: Partial<Record<BackgroundKind, number>>;
  /**
   * Weights of motions among those an object's kind can do, e.g. {"jump": 4}: a motion left out weighs 1. A kind
   * whose every motion weighs 0 draws uniformly.
   */
  motions?: Partial<Record<MotionType, number>>;
}

/** Checks untrusted JSON as a SceneMix, naming the field that is wrong. */
export function validateSceneMix(v: Json, field: string): SceneMix {
  if (!isObject(v)) throw invalidArgument(field, 'expected an object {objectCounts?, sizes?, clearWeather?, backgrounds?, motions?}');
  const unknown = Object.keys(v).filter((k) => !['objectCounts', 'sizes', 'clearWeather', 'backgrounds', 'motions'].includes(k));
  if (unknown.length) throw invalidArgument(`${field}.${unknown[0]}`, 'unknown field; expected objectCounts, sizes, clearWeather, backgrounds or motions');
  const mix: SceneMix = {};
  const weight = (w: Json, f: string): number => numberIn(w, 0, 1e6, f);
  if (v.objectCounts !== undefined) {
    const c = v.objectCounts;
    if (!Array.isArray(c) || c.length < 1 || c.length > MAX_OBJECTS) {
      throw invalidArgument(`${field}.objectCounts`, `expected a list of 1 to ${MAX_OBJECTS} weights (for 1, 2, ... objects), got ${JSON.stringify(c)}`);
    }
    mix.objectCounts = c.map((w, i) => weight(w, `${field}.objectCounts[${i}]`));
    if (!mix.objectCounts.some((w) => w > 0)) throw invalidArgument(`${field}.objectCounts`, 'expected at least one positive weight');
  }
  // weights by name: sizes among those that fit (one left out never drawn), background kinds (one left out weighs 1)
  const byName = <K extends string>(w: Json, names: readonly K[], what: string, absent: number): Partial<Record<K, number>> => {
    const f = `${field}.${what}`;
    if (!isObject(w)) throw invalidArgument(f, `expected an object of weights by ${what} (${names.join(', ')})`);
    const out: Partial<Record<K, number>> = {};
    for (const [k, x] of Object.entries(w)) {
      oneOf(k, names, f);
      out[k as K] = weight(x, `${f}.${k}`);
    }
    if (!names.some((k) => (out[k] ?? absent) > 0)) throw invalidArgument(f, 'expected at least one positive weight');
    return out;
  };
  if (v.sizes !== undefined) mix.sizes = byName(v.sizes, SIZES, 'sizes', 0);
  if (v.clearWeather !== undefined) mix.clearWeather = numberIn(v.clearWeather, 0, 1, `${field}.clearWeather`);
  if (v.backgrounds !== undefined) mix.backgrounds = byName(v.backgrounds, BACKGROUNDS, 'backgrounds', 1);
  if (v.motions !== undefined) mix.motions = byName(v.motions, MOTIONS, 'motions', 1);
  return mix;
}

/** A motion from those a kind can do, weighted by the mix (absent: the uniform draw, the same random numbers). */
function pickMotion(rng: Rng, motions: MotionType[], weights: SceneMix['motions']): MotionType {
  const w = weights ? motions.map((m) => weights[m] ?? 1) : null;
  return w && w.some((x) => x > 0) ? motions[rng.weighted(w)]! : rng.pick(motions);
}

/** Plausible motions for a kind of object, so random scenes look like the world rather than noise. */
export function motionsFor(kind: string): MotionType[] {
  const info = spriteInfo(kind);
  if (!info) {
    // a circle or ring looks the same when spun, so it does not spin
    const base: MotionType[] = ['move', 'fall', 'bounce', 'jump', 'rise', 'grow', 'shrink', 'orbit', 'stay'];
    return kind === 'circle' || kind === 'ring' ? base : [...base, 'spin'];
  }
  switch (info.role) {
    case 'walker': return ['walk', 'run', 'jump', 'stay'];
    case 'flyer': return ['fly', 'rise', 'orbit', 'stay'];
    case 'swimmer': return ['move', 'stay'];
    case 'vehicle': return ['move', 'stay'];
    case 'ball': return ['bounce', 'fall', 'move', 'spin', 'stay'];
    case 'thing': return ['fall', 'spin', 'grow', 'shrink', 'rise', 'stay'];
  }
}

/** Where an object should start so that its motion plays out inside the frame. */
export function startPosition(rng: Rng, motion: Motion): { x: number; y: number } {
  const r = (lo: number, hi: number) => Math.round(rng.range(lo, hi) * 100) / 100;
  switch (motion.type) {
    case 'fall': case 'bounce': return { x: r(0.2, 0.8), y: r(0.15, 0.3) };
    case 'jump': return { x: r(0.2, 0.8), y: 0.85 };
    case 'rise': return { x: r(0.2, 0.8), y: r(0.65, 0.8) };
    case 'walk': case 'run': return { x: motion.direction === 'right' ? r(0.15, 0.35) : r(0.65, 0.85), y: r(0.7, 0.82) };
    case 'move': case 'fly': {
      const d = motion.direction!;
      const x = d.includes('right') ? r(0.15, 0.35) : d.includes('left') ? r(0.65, 0.85) : r(0.25, 0.75);
      const y = d.startsWith('down') ? r(0.15, 0.35) : d.startsWith('up') ? r(0.65, 0.85) : r(0.25, 0.75);
      return { x, y };
    }
    case 'orbit': return { x: r(0.45, 0.75), y: r(0.35, 0.65) };
    default: return { x: r(0.2, 0.8), y: r(0.25, 0.75) };
  }
}

/** How many times an object is redrawn before the scene goes without it. */
const PLACEMENT_TRIES = 32;

/**
 * A random scene from a seed: every field explicit, and the spec faithful to the frames. Objects are at least
 * MIN_OBJECT_PX across; each is placed by simulating the scene so far and redrawing it (position and size first,
 * then kind and motion) until it stays in view, keeps clear of the others, meets no wall unless it falls, bounces
 * or jumps, and stands out from the background (see visibility.ts).
 */
export function randomSpec(seed: number, opts: RandomSpecOptions = {}): SceneSpec {
  const rng = new Rng(seed).fork('scene');
  const mix = opts.mix ?? {};
  const bgKind = mix.backgrounds ? BACKGROUNDS[rng.weighted(BACKGROUNDS.map((k) => mix.backgrounds![k] ?? 1))]! : rng.pick(BACKGROUNDS);
  const background: Background = bgKind === 'solid' ? { kind: 'solid', colour: rng.pick(SOLID_BACKGROUND_COLOURS) } : { kind: bgKind };
  const lighting: Lighting = bgKind !== 'night' && bgKind !== 'city' && rng.uniform() < 0.2 ? 'night' : 'day';
  // a pan or zoom over a flat colour is invisible, so solid backgrounds keep the camera still
  const camera: CameraMotion = bgKind === 'solid' || rng.uniform() < 0.6 ? 'still' : rng.pick(CAMERAS.slice(1));
  const weather: Weather = rng.uniform() < (mix.clearWeather ?? 0.7) ? 'clear' : rng.pick(['snow', 'rain'] as const);
  const most = Math.min(MAX_OBJECTS, opts.maxObjects ?? MAX_OBJECTS);
  const count = 1 + (mix.objectCounts ? rng.weighted(mix.objectCounts.slice(0, most)) : rng.int(most));
  const colours = visibleColours(background, lighting);
  const spec: SceneSpec = {
    width: opts.width ?? 64, height: opts.height ?? 64, fps: opts.fps ?? 8, frames: opts.frames ?? 16, seed: 0,
    background, camera, weather, lighting, objects: [],
  };
  const unit = Math.min(spec.width, spec.height);
  const fitting = SIZES.filter((s) => SIZE_FRACTION[s] * unit >= MIN_OBJECT_PX);
  const sizes = fitting.length ? fitting : [SIZES[SIZES.length - 1]!];
  const sizeWeights = mix.sizes && sizes.some((s) => (mix.sizes![s] ?? 0) > 0) ? sizes.map((s) => mix.sizes![s] ?? 0) : null;
  let accepted: Pose[][] | undefined;
  for (let i = 0; i < count; i++) {
    let kind = '', colour: ColourName | undefined, type: MotionType = 'stay';
    for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
      if (attempt % 8 === 0) {
        const sprite = rng.uniform() < (opts.spriteProbability ?? 0.45);
        kind = sprite ? rng.pick(SPRITES).name : rng.pick(SHAPES);
        colour = sprite ? undefined : rng.pick(colours);
        type = pickMotion(rng, motionsFor(kind), mix.motions);
      }
      const dirs = MOTION_DIRECTIONS[type];
      const motion: Motion = { type, speed: rng.pick(SPEEDS) };
      if (dirs) motion.direction = rng.pick(dirs);
      const obj: ObjectSpec = {
        kind,
        size: sizeWeights ? sizes[rng.weighted(sizeWeights)]! : rng.pick(sizes),
        position: startPosition(rng, motion),
        motion,
        physics: { restitution: Math.round(rng.range(0.6, 0.9) * 100) / 100, collide: rng.uniform() < 0.85, depth: spec.objects.length },
      };
      if (colour) obj.colour = colour;
      spec.objects.push(obj);
      const poses = simulate(spec);
      if (shownFaithfully(spec, spec.objects.length - 1, poses, accepted)) { accepted = poses; break; }
      spec.objects.pop();
    }
  }
  if (spec.objects.length === 0) {
    // nothing fitted (a tiny frame): one still shape in the middle
    spec.objects.push({
      kind: 'circle', colour: colours[0] ?? 'red', size: sizes[sizes.length - 1]!, position: { x: 0.5, y: 0.5 },
      motion: { type: 'stay', speed: 'normal' }, physics: { restitution: 0.8, collide: true, depth: 0 },
    });
  }
  spec.seed = rng.int(2 ** 31);
  return spec;
}

/** Nudges start positions apart (a few seeded tries) so objects do not begin on top of each other. */
export function spreadOut(objects: ObjectSpec[], rng: Rng): void {
  for (let i = 1; i < objects.length; i++) {
    for (let attempt = 0; attempt < 12; attempt++) {
      const o = objects[i]!;
      const clash = objects.slice(0, i).some((p) => {
        const minGap = (SIZE_FRACTION[o.size] + SIZE_FRACTION[p.size]) * 0.6;
        return Math.hypot(o.position.x - p.position.x, o.position.y - p.position.y) < minGap;
      });
      if (!clash) break;
      o.position = startPosition(rng, o.motion);
    }
  }
}

/**
 * The facts of a scene that words can carry (what, how many, how it moves, where, weather, light, camera), as a
 * canonical string: two specs with the same facts differ only in exact positions, physics and seed.
 */
export function sceneFacts(spec: SceneSpec): string {
  const objects = spec.objects
    .map((o) => [o.kind, o.colour ?? '-', o.size, o.motion.type, o.motion.direction ?? '-', o.motion.type === 'stay' ? '-' : o.motion.speed].join(' '))
    .sort();
  const bg = spec.background.kind === 'solid' ? `solid ${spec.background.colour}` : spec.background.kind;
  return [`background ${bg}`, `camera ${spec.camera}`, `weather ${spec.weather}`, `lighting ${spec.lighting}`, ...objects].join('; ');
}
