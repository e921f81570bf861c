/**
 * Recaptioner: describes a SceneSpec in words at three levels of detail, knowing every fact of the scene.
 *   short:  "a red ball bounces"
 *   medium: every object with its motion, and the setting
 *   dense:  Sora-prompt style: subjects, sizes, colours, motion and speed, position, setting, weather, light, camera
 *   fact:   one fact alone: "a red ball", "a ball bounces", "in front of a flat blue background", "It is snowing."
 * Wording (templates, synonyms, clause order) is drawn from a seed, so a model trained on many captions of the
 * same scene learns the facts rather than one sentence. The phrase tables here are also what the prompt expander
 * parses and what `worldVocabulary()` lists.
 */
import { Rng } from '../engine/random.js';
import {
  COUNT_WORDS, SIZE_WORDS, isShape, plural, type BackgroundKind, type CameraMotion, type Direction,
  type MotionType, type ShapeKind,
} from './lexicon.js';
import type { ObjectSpec, SceneSpec } from './spec.js';

export type CaptionLevel = 'short' | 'medium' | 'dense' | 'fact';
export const CAPTION_LEVELS: readonly CaptionLevel[] = ['short', 'medium', 'dense', 'fact'];

/** Nouns a caption may use for each shape. */
export const SHAPE_NOUNS: Record<ShapeKind, string[]> = {
  circle: ['circle', 'ball', 'disc'],
  square: ['square', 'block'],
  triangle: ['triangle'],
  star: ['star'],
  ring: ['ring', 'hoop'],
  hexagon: ['hexagon'],
  diamond: ['diamond', 'rhombus'],
};

/** Verb forms (singular, plural) for each motion; the first is the plain one. */
export const MOTION_VERBS: Record<MotionType, [string, string][]> = {
  move: [['moves', 'move'], ['glides', 'glide'], ['slides', 'slide'], ['drifts', 'drift']],
  walk: [['walks', 'walk'], ['strolls', 'stroll'], ['treads', 'tread']],
  run: [['runs', 'run'], ['dashes', 'dash'], ['races', 'race']],
  fly: [['flies', 'fly'], ['soars', 'soar']],
  fall: [['falls', 'fall'], ['drops', 'drop'], ['plummets', 'plummet']],
  bounce: [['bounces', 'bounce'], ['bounces up and down', 'bounce up and down']],
  jump: [['jumps', 'jump'], ['hops', 'hop'], ['leaps', 'leap']],
  rise: [['rises', 'rise'], ['floats upward', 'float upward'], ['ascends', 'ascend']],
  spin: [['spins', 'spin'], ['rotates', 'rotate'], ['twirls', 'twirl']],
  grow: [['grows', 'grow'], ['expands', 'expand'], ['swells', 'swell']],
  shrink: [['shrinks', 'shrink'], ['contracts', 'contract'], ['dwindles', 'dwindle']],
  orbit: [['circles around', 'circle around'], ['orbits in a circle', 'orbit in a circle'], ['moves in a circle', 'move in a circle']],
  stay: [['stays still', 'stay still'], ['rests motionless', 'rest motionless'], ['sits still', 'sit still'], ['stays in place', 'stay in place']],
};

export const DIRECTION_PHRASES: Record<Direction, string[]> = {
  left: ['to the left', 'leftward', 'toward the left'],
  right: ['to the right', 'rightward', 'toward the right'],
  up: ['upward', 'toward the top'],
  down: ['downward', 'toward the bottom'],
  'up-left': ['up and to the left', 'toward the upper left', 'diagonally up and left'],
  'up-right': ['up and to the right', 'toward the upper right', 'diagonally up and right'],
  'down-left': ['down and to the left', 'toward the lower left', 'diagonally down and left'],
  'down-right': ['down and to the right', 'toward the lower right', 'diagonally down and right'],
};

export const SPEED_WORDS = { slow: ['slowly', 'gently', 'leisurely'], fast: ['quickly', 'rapidly', 'swiftly'] } as const;

export const BACKGROUND_PHRASES: Record<Exclude<BackgroundKind, 'solid'>, string[]> = {
  sky: ['against a clear blue sky with drifting clouds', 'in a bright blue daytime sky', 'high in a blue sky dotted with clouds'],
  sunset: ['against a glowing orange sunset', 'under a sunset sky with the sun low on the horizon', 'at sunset beneath a purple and orange sky'],
  night: ['under a starry night sky', 'against a dark night sky full of stars and a pale moon', 'beneath the stars of a clear night sky'],
  snow: ['in a snowy meadow with snow capped mountains in the distance', 'across a snowy meadow', 'on a snowfield edged by dark trees and snowy peaks'],
  grass: ['on a green grass field', 'in a grassy field under a blue sky', 'across a green meadow'],
  sea: ['above the sea', 'over blue ocean waves', 'by the open sea'],
  desert: ['in a sandy desert', 'over golden desert dunes', 'across the desert sands'],
  city: ['on a city street at night lit by neon signs', 'in a neon lit city street', 'along a dark city street with glowing neon signs'],
};
export const SOLID_PHRASES = ['on a plain {c} background', 'against a solid {c} backdrop', 'in front of a flat {c} background'];

export const WEATHER_PHRASES = {
  snow: ['Snow falls gently over everything.', 'It is snowing.', 'Light snowfall drifts through the air.'],
  rain: ['Rain streaks down across the frame.', 'It is raining.', 'A steady rain is falling.'],
  clear: ['The weather is clear.', ''],
} as const;

export const LIGHTING_PHRASES = {
  night: ['The scene is lit by dim blue moonlight.', 'It is night, and everything is bathed in moonlight.', 'The light is dim, as at night.'],
  day: ['The scene is in bright daylight.', 'Everything is lit by daylight.', ''],
} as const;

export const CAMERA_PHRASES: Record<CameraMotion, string[]> = {
  still: ['The camera is static.', 'Shot on a fixed camera.', ''],
  'pan-left': ['The camera pans to the left.', 'The camera slowly pans left.', 'The shot pans to the left.'],
  'pan-right': ['The camera pans to the right.', 'The camera slowly pans right.', 'The shot pans to the right.'],
  'zoom-in': ['The camera zooms in.', 'The camera slowly zooms in on the scene.', 'The shot zooms in.'],
  'zoom-out': ['The camera zooms out.', 'The camera slowly zooms out to reveal the scene.', 'The shot zooms out.'],
};

export const POSITION_PHRASES = {
  left: ['on the left', 'on the left side of the frame'],
  right: ['on the right', 'on the right side of the frame'],
  top: ['near the top', 'at the top of the frame'],
  bottom: ['near the bottom', 'at the bottom of the frame'],
  centre: ['in the centre', 'in the middle of the frame'],
} as const;
export type PositionWord = keyof typeof POSITION_PHRASES;

/** Objects that look and move alike are described together: "two red circles bounce". */
export interface Group {
  object: ObjectSpec;
  count: number;
}

/** A caption's subjects: objects that look and move alike form one group, in order of first appearance. */
export function groupObjects(objects: readonly ObjectSpec[]): Group[] {
  const groups: Group[] = [];
  const sameLook = (a: ObjectSpec, b: ObjectSpec) =>
    a.kind === b.kind && a.colour === b.colour && a.size === b.size && a.motion.type === b.motion.type &&
    a.motion.direction === b.motion.direction && a.motion.speed === b.motion.speed;
  for (const o of objects) {
    const g = groups.find((x) => sameLook(x.object, o));
    if (g) g.count++;
    else groups.push({ object: o, count: 1 });
  }
  return groups;
}

/** Coarse place of an object in the frame, the way a caption would say it. */
export function positionWord(o: ObjectSpec): PositionWord {
  const { x, y } = o.position;
  if (x < 0.34) return 'left';
  if (x > 0.66) return 'right';
  if (y < 0.3) return 'top';
  if (y > 0.7) return 'bottom';
  return 'centre';
}

function nounFor(o: ObjectSpec, rng: Rng): string {
  return isShape(o.kind) ? rng.pick(SHAPE_NOUNS[o.kind]) : o.kind;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) && !word.startsWith('uf') ? 'an' : 'a';
}

interface PhraseOptions {
  size: boolean;
  position: boolean;
  speed: boolean;
}

/** "a small red circle", "two red circles": a group named with its count, optionally its size and colour. */
function subjectPhrase(g: Group, rng: Rng, opts: { size: boolean; colour: boolean }): string {
  const o = g.object;
  const words: string[] = [];
  if (opts.size && o.size !== 'medium') words.push(rng.pick(SIZE_WORDS[o.size]));
  else if (opts.size && rng.uniform() < 0.3) words.push(rng.pick(SIZE_WORDS.medium));
  if (opts.colour && o.colour) words.push(o.colour);
  const noun = nounFor(o, rng);
  words.push(g.count > 1 ? plural(noun) : noun);
  return g.count > 1 ? `${COUNT_WORDS[g.count]} ${words.join(' ')}` : `${article(words[0]!)} ${words.join(' ')}`;
}

/** "bounces to the left": a group's verb, in the number its subject takes, and direction. */
function motionPhrase(g: Group, rng: Rng): string[] {
  const o = g.object;
  const verb = rng.pick(MOTION_VERBS[o.motion.type])[g.count > 1 ? 1 : 0];
  const direction = o.motion.direction ? rng.pick(DIRECTION_PHRASES[o.motion.direction]) : '';
  return [verb, direction];
}

/** "a small red circle on the left quickly bounces" style clause for one group. */
function groupClause(g: Group, rng: Rng, opts: PhraseOptions): string {
  const o = g.object;
  const subject = subjectPhrase(g, rng, { size: opts.size, colour: true });
  const [verb, direction] = motionPhrase(g, rng) as [string, string];
  const adverb = opts.speed && o.motion.speed !== 'normal' && o.motion.type !== 'stay' ? rng.pick(SPEED_WORDS[o.motion.speed]) : '';
  const predicate = adverb && rng.uniform() < 0.5
    ? [adverb, verb, direction]
    : [verb, adverb, direction];
  const position = opts.position ? rng.pick(POSITION_PHRASES[positionWord(o)]) : '';
  const parts = position && rng.uniform() < 0.5 ? [subject, position, ...predicate] : [subject, ...predicate, position];
  return parts.filter((p) => p).join(' ');
}

function settingPhrase(spec: SceneSpec, rng: Rng): string {
  const bg = spec.background;
  return bg.kind === 'solid' ? rng.pick(SOLID_PHRASES).replace('{c}', bg.colour!) : rng.pick(BACKGROUND_PHRASES[bg.kind]);
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The weather, light and camera sentences a dense caption adds; a wording may say nothing of a clear, daylit, static scene. */
function sceneSentences(spec: SceneSpec, rng: Rng): string[] {
  return [
    rng.pick(WEATHER_PHRASES[spec.weather]),
    // a night sky or a city at night is dark already: saying "daylight" there would contradict the setting
    spec.background.kind === 'night' || spec.background.kind === 'city' ? (spec.lighting === 'night' ? rng.pick(LIGHTING_PHRASES.night) : '') : rng.pick(LIGHTING_PHRASES[spec.lighting]),
    rng.pick(CAMERA_PHRASES[spec.camera]),
  ].filter((s) => s);
}

/**
 * One fact of the scene alone: a subject's look ("two red balls"), a subject's motion ("a ball bounces"), the
 * setting, or the weather, light or camera. Mixed in with the full captions, these tie each word to what it names
 * in the picture; in long captions alone, models did not learn which colour word goes with which noun (README,
 * "What limits quality").
 */
function factCaption(spec: SceneSpec, rng: Rng): string {
  const groups = groupObjects(spec.objects);
  const extras = sceneSentences(spec, rng);
  const topics = extras.length > 0 ? ['look', 'motion', 'setting', 'scene'] : ['look', 'motion', 'setting'];
  const g = rng.pick(groups);
  switch (rng.pick(topics)) {
    case 'look': return subjectPhrase(g, rng, { size: false, colour: true });
    case 'motion': return [subjectPhrase(g, rng, { size: false, colour: false }), ...motionPhrase(g, rng)].filter((p) => p).join(' ');
    case 'setting': return settingPhrase(spec, rng);
    default: return rng.pick(extras);
  }
}

/** A caption of the scene at the given level; wording chosen by seed. */
export function captionSpec(spec: SceneSpec, level: CaptionLevel, seed = 0): string {
  const rng = new Rng(seed).fork(`caption-${level}`);
  const groups = groupObjects(spec.objects);
  if (level === 'short') return groupClause(groups[0]!, rng, { size: false, position: false, speed: false });
  if (level === 'fact') return factCaption(spec, rng);

  const clauses = groups.map((g) => groupClause(g, rng, { size: level === 'dense', position: level === 'dense', speed: level === 'dense' }));
  if (level === 'medium') return `${joinClauses(clauses, rng)} ${settingPhrase(spec, rng)}`;

  const sentences: string[] = [];
  if (rng.uniform() < 0.5 || clauses.length === 1) {
    sentences.push(`${capitalise(joinClauses(clauses, rng))} ${settingPhrase(spec, rng)}.`);
  } else {
    sentences.push(`${capitalise(joinClauses(clauses, rng))}.`);
    sentences.push(rng.pick([`The scene takes place ${settingPhrase(spec, rng)}.`, `${capitalise(settingPhrase(spec, rng))}.`]));
  }
  const extras = sceneSentences(spec, rng);
  // Sora prompts put the camera anywhere; keep the subjects first and shuffle the rest
  for (let i = extras.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [extras[i], extras[j]] = [extras[j]!, extras[i]!];
  }
  return [...sentences, ...extras].join(' ');
}

function joinClauses(clauses: string[], rng: Rng): string {
  if (clauses.length === 1) return clauses[0]!;
  const last = clauses[clauses.length - 1]!;
  const glue = rng.pick([', and ', ', while ', ' as ']);
  return `${clauses.slice(0, -1).join(', ')}${glue}${last}`;
}

/** A random caption level by weights (short, medium, dense, fact), as training samples them. */
export function pickCaptionLevel(rng: Rng, weights: Partial<Record<CaptionLevel, number>> = { short: 0.15, medium: 0.25, dense: 0.6 }): CaptionLevel {
  const levels = CAPTION_LEVELS.filter((l) => (weights[l] ?? 0) > 0);
  return levels[rng.weighted(levels.map((l) => weights[l]!))]!;
}
