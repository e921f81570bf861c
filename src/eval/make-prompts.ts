/**
 * Writes eval/prompts.jsonl: a fixed, seeded set of evaluation prompts with the scenes they denote.
 *
 *   npx tsx src/eval/make-prompts.ts [--count 240] [--seed 2024] [--out eval/prompts.jsonl]
 *
 * Coverage is by construction, not by luck: prompt i takes motion MOTIONS[i mod 13] and background
 * BACKGROUNDS[i mod 9] for its first object (13 and 9 are coprime, so 117 prompts meet every pair), levels
 * alternate short/dense, object counts cycle 1,1,2,1,3,2, and every eighth prompt makes its first object one of
 * the held-out colour x shape x motion triples. Everything else (kinds, colours, other objects, wording) is drawn
 * from a seeded Rng.
 *
 * Short prompts name every object with its colour and motion, and the setting (the recaptioner's medium level);
 * dense prompts add sizes, positions, speeds, weather, light and camera. Unsaid facts take the expander's defaults
 * (medium size, normal speed, clear daylight, still camera), so the spec is what the prompt denotes. Each prompt is
 * read back with the built-in expander and reworded (or the scene redrawn) until the expander recovers every object
 * and the setting: a prompt the model's own front end misreads would grade the expander, not the model.
 */
import { parseArgs } from 'node:util';
import { Rng } from '../engine/random.js';
import { writeFileAtomically } from '../formats/index.js';
import { captionSpec } from '../world/caption.js';
import { parsePrompt, type ParsedPrompt } from '../world/expand.js';
import {
  BACKGROUNDS, CAMERAS, MOTIONS, MOTION_DIRECTIONS, SHAPES, SIZES, SOLID_BACKGROUND_COLOURS, SPEEDS, SPRITES, isShape,
  type ColourName, type Lighting, type MotionType,
} from '../world/lexicon.js';
import {
  motionsFor, spreadOut, startPosition, validateSpec, visibleColours,
  type Background, type Motion, type ObjectSpec, type SceneSpec,
} from '../world/spec.js';
import { HELD_OUT_COMBINATIONS, hasHeldOutCombination, heldOutCombinationOf } from './held-out.js';
import type { EvalPrompt, PromptLevel } from './prompts.js';

const OBJECT_COUNTS = [1, 1, 2, 1, 3, 2];
const HELD_OUT_EVERY = 8;
const HELD_OUT_PHASE = 5;
const MAX_WORDINGS = 24;
const MAX_SCENES = 40;

/** Kinds that can perform a motion, shapes and sprites alike. */
function kindsFor(motion: MotionType): string[] {
  return [...SHAPES, ...SPRITES.map((s) => s.name)].filter((k) => motionsFor(k).includes(motion));
}

function makeObject(rng: Rng, kind: string, type: MotionType, colours: ColourName[], dense: boolean, depth: number): ObjectSpec {
  const dirs = MOTION_DIRECTIONS[type];
  const motion: Motion = { type, speed: dense ? rng.pick(SPEEDS) : 'normal' };
  if (dirs) motion.direction = rng.pick(dirs);
  const o: ObjectSpec = {
    kind,
    size: dense ? rng.pick(SIZES) : 'medium',
    position: startPosition(rng, motion),
    motion,
    physics: { restitution: 0.8, collide: true, depth },
  };
  if (isShape(kind)) {
    // a colour that would make this object a held-out triple is kept for the held-out prompts
    const allowed = colours.filter((c) => !heldOutCombinationOf({ kind, colour: c, motion }));
    o.colour = rng.pick(allowed.length > 0 ? allowed : colours);
  }
  return o;
}

interface Slot {
  index: number;
  level: PromptLevel;
  objects: number;
  motion: MotionType;
  background: Background;
  heldOut: boolean;
}

function slotFor(index: number, rng: Rng): Slot {
  const kind = BACKGROUNDS[index % BACKGROUNDS.length]!;
  const background: Background = kind === 'solid' ? { kind, colour: rng.pick(SOLID_BACKGROUND_COLOURS) } : { kind };
  return {
    index,
    level: index % 2 === 0 ? 'short' : 'dense',
    objects: OBJECT_COUNTS[Math.floor(index / 2) % OBJECT_COUNTS.length]!,
    motion: MOTIONS[index % MOTIONS.length]!,
    background,
    heldOut: index % HELD_OUT_EVERY === HELD_OUT_PHASE,
  };
}

/** One scene for a slot; null when the slot's constraints cannot be met with this draw. */
function drawScene(slot: Slot, rng: Rng): SceneSpec | null {
  const dense = slot.level === 'dense';
  let background = slot.background;
  const lighting: Lighting = dense && background.kind !== 'night' && background.kind !== 'city' && rng.uniform() < 0.3 ? 'night' : 'day';
  const objects: ObjectSpec[] = [];
  if (slot.heldOut) {
    const triple = HELD_OUT_COMBINATIONS[Math.floor(slot.index / HELD_OUT_EVERY) % HELD_OUT_COMBINATIONS.length]!;
    // the triple's colour must show on the slot's background; otherwise use a solid backdrop it shows on
    if (!visibleColours(background, lighting).includes(triple.colour)) {
      const solid = SOLID_BACKGROUND_COLOURS.filter((c) => visibleColours({ kind: 'solid', colour: c }, lighting).includes(triple.colour));
      if (solid.length === 0) return null;
      background = { kind: 'solid', colour: rng.pick(solid) };
    }
    const o = makeObject(rng, triple.kind, triple.motion, [triple.colour], dense, 0);
    o.colour = triple.colour;
    objects.push(o);
  }
  const colours = visibleColours(background, lighting);
  if (colours.length === 0) return null;
  if (!slot.heldOut) objects.push(makeObject(rng, rng.pick(kindsFor(slot.motion)), slot.motion, colours, dense, 0));
  while (objects.length < slot.objects) {
    const first = objects[0]!;
    if (objects.length === 1 && rng.uniform() < 0.3 && !heldOutCombinationOf(first)) {
      // a twin of the first object: prompts then say "two red circles ..." and the judge counts
      objects.push({ ...first, position: startPosition(rng, first.motion), physics: { ...first.physics, depth: 1 } });
      continue;
    }
    const kind = rng.uniform() < 0.5 ? rng.pick(SHAPES) : rng.pick(SPRITES).name;
    if (objects.some((o) => o.kind === kind)) continue;
    objects.push(makeObject(rng, kind, rng.pick(motionsFor(kind)), colours, dense, objects.length));
  }
  spreadOut(objects, rng);
  const stillCamera = !dense || background.kind === 'solid' || rng.uniform() < 0.5;
  const spec = validateSpec({
    width: 64, height: 64, fps: 8, frames: 16, seed: slot.index,
    background, lighting, objects,
    camera: stillCamera ? 'still' : rng.pick(CAMERAS.slice(1)),
    weather: dense && rng.uniform() < 0.3 ? rng.pick(['snow', 'rain'] as const) : 'clear',
  });
  return hasHeldOutCombination(spec) === slot.heldOut ? spec : null;
}

/** Facts of one object the way a prompt carries them at a level. */
function objectFact(o: { kind?: string; colour?: string; motion?: string; direction?: string; size?: string; speed?: string }, level: PromptLevel): string {
  const facts = [o.kind ?? '?', o.colour ?? '-', o.motion ?? '?', o.direction ?? '-'];
  if (level === 'dense') facts.push(o.size ?? 'medium', o.motion === 'stay' ? '-' : o.speed ?? 'normal');
  return facts.join(' ');
}

/** True when the expander reads back every fact the prompt is meant to carry about the spec. */
export function readsBack(parsed: ParsedPrompt, spec: SceneSpec, level: PromptLevel): boolean {
  const said = parsed.entities.flatMap((e) => Array<string>(e.count).fill(objectFact(e, level))).sort();
  const meant = spec.objects
    .map((o) => objectFact({ ...o, motion: o.motion.type, direction: o.motion.direction, speed: o.motion.speed }, level))
    .sort();
  if (said.join('|') !== meant.join('|')) return false;
  const bg = parsed.background;
  if (bg?.kind !== spec.background.kind || bg.colour !== spec.background.colour) return false;
  if (level === 'short') return true;
  return (parsed.camera ?? 'still') === spec.camera && (parsed.weather ?? 'clear') === spec.weather && (parsed.lighting ?? 'day') === spec.lighting;
}

function tagsFor(slot: Slot, spec: SceneSpec): string[] {
  const tags = new Set<string>([slot.level, spec.objects.length === 1 ? 'single' : 'multi']);
  for (const o of spec.objects) {
    tags.add(`motion:${o.motion.type}`);
    tags.add(isShape(o.kind) ? 'shape' : 'sprite');
  }
  tags.add(`background:${spec.background.kind}`);
  if (spec.objects.some((o, i) => spec.objects.findIndex((p) => p.kind === o.kind && p.colour === o.colour) !== i)) tags.add('count');
  if (spec.weather !== 'clear') tags.add(`weather:${spec.weather}`);
  if (spec.lighting !== 'day') tags.add('lighting:night');
  if (spec.camera !== 'still') tags.add(`camera:${spec.camera}`);
  if (slot.heldOut) tags.add('held-out');
  return [...tags];
}

export interface MakePromptsResult {
  prompts: EvalPrompt[];
  /** Wordings the expander misread and that were replaced. */
  rewordings: number;
  /** Scenes redrawn because no wording read back. */
  redraws: number;
}

export function makePrompts(count: number, seed: number): MakePromptsResult {
  const root = new Rng(seed);
  const prompts: EvalPrompt[] = [];
  let rewordings = 0;
  let redraws = 0;
  for (let index = 0; index < count; index++) {
    const rng = root.fork(index);
    const slot = slotFor(index, rng);
    let made: EvalPrompt | undefined;
    for (let attempt = 0; attempt < MAX_SCENES && !made; attempt++) {
      const spec = drawScene(slot, rng);
      if (!spec) continue;
      for (let wording = 0; wording < MAX_WORDINGS; wording++) {
        const prompt = captionSpec(spec, slot.level === 'short' ? 'medium' : 'dense', seed * 1000 + index * 37 + wording);
        if (readsBack(parsePrompt(prompt), spec, slot.level)) {
          made = {
            id: `p${String(index).padStart(3, '0')}`, prompt, spec, level: slot.level, objects: spec.objects.length,
            held_out: slot.heldOut, tags: tagsFor(slot, spec),
          };
          break;
        }
        rewordings++;
      }
      if (!made) redraws++;
    }
    if (!made) throw new Error(`make-prompts: no scene for prompt ${index} reads back through the expander after ${MAX_SCENES} draws`);
    prompts.push(made);
  }
  return { prompts, rewordings, redraws };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '240' },
      seed: { type: 'string', default: '2024' },
      out: { type: 'string', default: 'eval/prompts.jsonl' },
    },
  });
  const { prompts, rewordings, redraws } = makePrompts(Number(values.count), Number(values.seed));
  await writeFileAtomically(values.out!, prompts.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const heldOut = prompts.filter((p) => p.held_out).length;
  console.log(JSON.stringify({ out: values.out, prompts: prompts.length, heldOut, rewordings, redraws }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
