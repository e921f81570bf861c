/**
 * Training run configs (JSON files in configs/). Every field is checked and a bad one is named with what was
 * expected, before any work starts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TesseraError, invalidArgument } from '../errors.js';
import type { OptimConfig } from './loop.js';
import type { Bucket } from './tasks.js';
import type { HeldOutCombo } from '../data/index.js';
import { HELD_OUT_COMBINATIONS } from '../eval/held-out.js';
import { CAPTION_LEVELS, validateSceneMix, type CaptionLevel, type SceneMix } from '../world/index.js';

export interface TrainConfig {
  task: 'vae' | 'dit';
  /** Checkpoints, metrics, samples and the exported model go here. */
  runDir: string;
  seed: number;
  /** Architecture preset for a fresh model: 'world' (the bundled model's) or 'tiny' (tests). */
  preset: string;
  /** Architecture fields that replace the preset's for a fresh model, e.g. {"vae": {"latentChannels": 16}}. */
  model: ModelOverrides;
  /** Start from this model folder (fine-tuning / continuing on a new machine with a fresh optimizer). */
  initFrom: string | null;
  /** DiT runs: the frozen VAE, as a model folder or a vae/ component folder. */
  vaeFrom: string | null;
  /** DiT runs: steps of caption -> scene-fact classification for the text encoder before a fresh run starts. */
  textPretrainSteps: number;
  /**
   * DiT runs: the size the export generates by default and calls native, instead of the preset's (e.g. a model
   * trained only at 64x64); null keeps the preset's.
   */
  nativeSize: { width: number; height: number } | null;
  data: {
    source: 'world' | 'folder';
    /** For source 'folder': a folder of videos with captions.jsonl. */
    folder?: string;
    /** For source 'folder': clips held for drawing samples at random (default 64; 1 = the folder's order). */
    shuffleBuffer?: number;
    /** DiT runs on a folder: megabytes of clip latents kept so a clip met again is not encoded again (default 1024; 0 = off). */
    latentCacheMB?: number;
    buckets: Bucket[];
    heldOut: HeldOutCombo[];
    captionDropout: number;
    conditionRate: number;
    /** Extra loss weight on latent cells with an object (world source only; 0 = off). See DitTaskOptions. */
    objectWeight: number;
    /** Object weighting only at flow times up to this (1 = all); see DitTaskOptions. */
    objectWeightMaxTime: number;
    /** Correlation of the training noise across latent frames (0 = independent); see DitTaskOptions. */
    noiseCorrelation: number;
    /** Fraction of training times drawn uniformly instead of logit-normal (0 = none); see DitTaskOptions. */
    uniformTimeFraction: number;
    noiseOffset: number;
    /** Weight of the flicker loss (0 = off); see DitTaskOptions.temporalDifferenceWeight. */
    temporalDifferenceWeight: number;
    /** Weights of the recaptioner's levels (short, medium, dense, fact); the world's default when absent. */
    captionLevels?: Partial<Record<CaptionLevel, number>>;
    /** World source: biases the scenes drawn (object counts, sizes, weather); the uniform draw when absent. */
    mix?: SceneMix;
  };
  /** VAE runs: extra terms of the VAE objective. */
  vaeLoss: VaeLossConfig;
  optim: OptimConfig;
  checkpointEvery: number;
  logEvery: number;
  sampleEvery: number;
  maxMinutes?: number;
}

export interface VaeLossConfig {
  /** Weight of the L1 loss on image gradients (sharpness). */
  gradientWeight: number;
  /** Weight of the KL term. */
  klWeight: number;
  /**
   * Largest standard deviation of Gaussian noise added to the (unit-variance) latent before decoding, drawn
   * uniformly per clip from [0, latentNoise]: teaches the decoder to turn slightly-off latents (a diffusion
   * model's samples) into clean pictures instead of amplifying the error into blotches. 0 turns it off.
   */
  latentNoise: number;
  /** Train the decoder only: the latent space (and so any DiT trained on it) stays exactly as it was. */
  freezeEncoder: boolean;
  /** Extra reconstruction weight on pixels that change between neighbouring frames (moving objects). 0 turns it off. */
  motionWeight: number;
}

type Json = Record<string, unknown>;

/** Per-component architecture overrides; each component's own constructor checks the values. */
export interface ModelOverrides {
  vae?: Record<string, unknown>;
  transformer?: Record<string, unknown>;
  textEncoder?: Record<string, unknown>;
}

const MODEL_COMPONENTS = ['vae', 'transformer', 'textEncoder'] as const;

function parseModelOverrides(v: unknown, path: string): ModelOverrides {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(path, 'expected {"vae"?: {...}, "transformer"?: {...}, "textEncoder"?: {...}}');
  const out: ModelOverrides = {};
  for (const [k, fields] of Object.entries(v as Json)) {
    if (!(MODEL_COMPONENTS as readonly string[]).includes(k)) throw invalidArgument(`${path}.${k}`, `expected one of ${MODEL_COMPONENTS.join(', ')}`);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw invalidArgument(`${path}.${k}`, 'expected an object of architecture fields');
    out[k as keyof ModelOverrides] = { ...(fields as Json) };
  }
  return out;
}

/**
 * Every field a config section may hold. A field outside these is an error, not ignored: a misspelt option
 * (`objectWieght`) would otherwise run a different experiment from the one the config describes.
 */
const KNOWN_FIELDS = {
  '': ['task', 'runDir', 'seed', 'preset', 'model', 'initFrom', 'vaeFrom', 'textPretrainSteps', 'nativeSize', 'data', 'vaeLoss', 'optim',
    'checkpointEvery', 'logEvery', 'sampleEvery', 'maxMinutes'],
  data: ['source', 'folder', 'buckets', 'heldOut', 'captionDropout', 'conditionRate', 'objectWeight', 'objectWeightMaxTime', 'noiseCorrelation',
    'uniformTimeFraction', 'noiseOffset', 'temporalDifferenceWeight', 'captionLevels', 'mix', 'shuffleBuffer', 'latentCacheMB'],
  bucket: ['width', 'height', 'frames', 'batch', 'weight'],
  vaeLoss: ['gradientWeight', 'klWeight', 'latentNoise', 'freezeEncoder', 'motionWeight'],
  optim: ['lr', 'minLr', 'warmupSteps', 'totalSteps', 'weightDecay', 'gradClip', 'emaDecay'],
} as const;

function onlyKnownFields(obj: Json, section: keyof typeof KNOWN_FIELDS, path: string): void {
  const known: readonly string[] = KNOWN_FIELDS[section];
  const unknown = Object.keys(obj).find((k) => !known.includes(k)); // "extends" is resolved before this (readTrainConfig)
  if (unknown !== undefined) throw invalidArgument(`${path}.${unknown}`, `unknown field; expected one of ${known.join(', ')}`);
}

function num(obj: Json, key: string, path: string, { min = -Infinity, max = Infinity, int = false, def }: { min?: number; max?: number; int?: boolean; def?: number } = {}): number {
  const v = obj[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    throw invalidArgument(`${path}.${key}`, `expected ${int ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(obj: Json, key: string, path: string, def?: string | null): string | null {
  const v = obj[key] ?? def;
  if (v === null) return null;
  if (typeof v !== 'string' || v === '') throw invalidArgument(`${path}.${key}`, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

export function parseTrainConfig(json: unknown, file = 'config'): TrainConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalidArgument(file, 'expected a JSON object');
  const j = json as Json;
  onlyKnownFields(j, '', file);
  const task = j.task;
  if (task !== 'vae' && task !== 'dit') throw invalidArgument(`${file}.task`, `expected "vae" or "dit", got ${JSON.stringify(task)}`);
  const data = (j.data ?? {}) as Json;
  if (typeof data !== 'object' || Array.isArray(data)) throw invalidArgument(`${file}.data`, 'expected an object');
  onlyKnownFields(data, 'data', `${file}.data`);
  const source = data.source ?? 'world';
  if (source !== 'world' && source !== 'folder') throw invalidArgument(`${file}.data.source`, `expected "world" or "folder", got ${JSON.stringify(source)}`);
  if (!Array.isArray(data.buckets) || data.buckets.length === 0) throw invalidArgument(`${file}.data.buckets`, 'expected a non-empty list of {width, height, frames, batch, weight}');
  const buckets: Bucket[] = data.buckets.map((b, i) => {
    const p = `${file}.data.buckets[${i}]`;
    if (typeof b !== 'object' || b === null) throw invalidArgument(p, 'expected an object');
    const o = b as Json;
    onlyKnownFields(o, 'bucket', p);
    return {
      ...frameSize(o, p),
      frames: num(o, 'frames', p, { min: 1, max: 257, int: true }),
      batch: num(o, 'batch', p, { min: 1, max: 256, int: true, def: 1 }),
      weight: num(o, 'weight', p, { min: 0, def: 1 }),
    };
  });
  // "eval" holds out exactly the combinations the shipped eval prompts test for compositional generalisation
  const heldOut = (data.heldOut === 'eval' ? HELD_OUT_COMBINATIONS.map((c) => ({ ...c })) : data.heldOut ?? []) as HeldOutCombo[];
  if (!Array.isArray(heldOut)) throw invalidArgument(`${file}.data.heldOut`, 'expected "eval" or a list of {kind?, colour?, motion?}');
  const optim = (j.optim ?? {}) as Json;
  if (typeof optim !== 'object' || Array.isArray(optim)) throw invalidArgument(`${file}.optim`, 'expected an object');
  onlyKnownFields(optim, 'optim', `${file}.optim`);
  const vaeLoss = (j.vaeLoss ?? {}) as Json;
  if (typeof vaeLoss !== 'object' || Array.isArray(vaeLoss)) throw invalidArgument(`${file}.vaeLoss`, 'expected {"gradientWeight"?, "klWeight"?, "latentNoise"?, "freezeEncoder"?, "motionWeight"?}');
  onlyKnownFields(vaeLoss, 'vaeLoss', `${file}.vaeLoss`);
  const freezeEncoder = vaeLoss.freezeEncoder ?? false;
  if (typeof freezeEncoder !== 'boolean') throw invalidArgument(`${file}.vaeLoss.freezeEncoder`, `expected true or false, got ${JSON.stringify(freezeEncoder)}`);
  const totalSteps = num(optim, 'totalSteps', `${file}.optim`, { min: 1, int: true });
  const config: TrainConfig = {
    task,
    runDir: str(j, 'runDir', file)!,
    seed: num(j, 'seed', file, { min: 0, int: true, def: 0 }),
    preset: str(j, 'preset', file, 'world')!,
    model: parseModelOverrides(j.model, `${file}.model`),
    initFrom: str(j, 'initFrom', file, null),
    vaeFrom: str(j, 'vaeFrom', file, null),
    textPretrainSteps: num(j, 'textPretrainSteps', file, { min: 0, int: true, def: 0 }),
    nativeSize: parseNativeSize(j.nativeSize, `${file}.nativeSize`),
    data: {
      source,
      folder: str(data, 'folder', `${file}.data`, null) ?? undefined,
      shuffleBuffer: source === 'folder' ? num(data, 'shuffleBuffer', `${file}.data`, { min: 1, max: 100_000, int: true, def: 64 }) : undefined,
      latentCacheMB: source === 'folder' && task === 'dit' ? num(data, 'latentCacheMB', `${file}.data`, { min: 0, max: 1_000_000, def: 1024 }) : undefined,
      buckets,
      heldOut,
      captionDropout: num(data, 'captionDropout', `${file}.data`, { min: 0, max: 1, def: 0.1 }),
      conditionRate: num(data, 'conditionRate', `${file}.data`, { min: 0, max: 1, def: 0.3 }),
      objectWeight: num(data, 'objectWeight', `${file}.data`, { min: 0, max: 100, def: 0 }),
      objectWeightMaxTime: num(data, 'objectWeightMaxTime', `${file}.data`, { min: 0, max: 1, def: 1 }),
      noiseCorrelation: num(data, 'noiseCorrelation', `${file}.data`, { min: 0, max: 0.99, def: 0 }),
      uniformTimeFraction: num(data, 'uniformTimeFraction', `${file}.data`, { min: 0, max: 1, def: 0 }),
      noiseOffset: num(data, 'noiseOffset', `${file}.data`, { min: 0, max: 1, def: 0 }),
      temporalDifferenceWeight: num(data, 'temporalDifferenceWeight', `${file}.data`, { min: 0, max: 100, def: 0 }),
      captionLevels: parseCaptionLevels(data.captionLevels, `${file}.data.captionLevels`),
      mix: data.mix === undefined ? undefined : validateSceneMix(data.mix, `${file}.data.mix`),
    },
    vaeLoss: {
      gradientWeight: num(vaeLoss, 'gradientWeight', `${file}.vaeLoss`, { min: 0, def: 0.5 }),
      klWeight: num(vaeLoss, 'klWeight', `${file}.vaeLoss`, { min: 0, def: 1e-6 }),
      latentNoise: num(vaeLoss, 'latentNoise', `${file}.vaeLoss`, { min: 0, max: 10, def: 0 }),
      freezeEncoder,
      motionWeight: num(vaeLoss, 'motionWeight', `${file}.vaeLoss`, { min: 0, max: 1000, def: 0 }),
    },
    optim: {
      lr: num(optim, 'lr', `${file}.optim`, { min: 0 }),
      minLr: num(optim, 'minLr', `${file}.optim`, { min: 0, def: 0 }),
      warmupSteps: num(optim, 'warmupSteps', `${file}.optim`, { min: 0, int: true, def: 100 }),
      totalSteps,
      weightDecay: num(optim, 'weightDecay', `${file}.optim`, { min: 0, def: 0.01 }),
      gradClip: num(optim, 'gradClip', `${file}.optim`, { min: 0, def: 1 }),
      emaDecay: num(optim, 'emaDecay', `${file}.optim`, { min: 0, max: 1, def: 0.999 }),
    },
    checkpointEvery: num(j, 'checkpointEvery', file, { min: 1, int: true, def: 100 }),
    logEvery: num(j, 'logEvery', file, { min: 1, int: true, def: 10 }),
    sampleEvery: num(j, 'sampleEvery', file, { min: 0, int: true, def: 0 }),
    maxMinutes: j.maxMinutes === undefined || j.maxMinutes === null ? undefined : num(j, 'maxMinutes', file, { min: 0 }),
  };
  if (config.task === 'dit' && !config.vaeFrom && !config.initFrom) {
    throw invalidArgument(`${file}.vaeFrom`, 'a DiT run needs a trained VAE: set vaeFrom (or initFrom, a model folder that has one)');
  }
  if (config.task === 'vae' && config.nativeSize) {
    throw invalidArgument(`${file}.nativeSize`, 'only a DiT run exports a model that generates; leave it out of a VAE run');
  }
  if (config.task === 'vae' && freezeEncoder && !config.initFrom) {
    throw invalidArgument(`${file}.vaeLoss.freezeEncoder`, 'a frozen encoder needs a trained VAE to start from: set initFrom');
  }
  if ((config.data.source !== 'folder' || config.task !== 'dit') && data.latentCacheMB !== undefined) {
    throw invalidArgument(`${file}.data.latentCacheMB`, 'only a DiT run on a folder keeps latents: the world never shows a clip twice, and a VAE run trains its encoder');
  }
  if (config.data.source !== 'folder' && data.shuffleBuffer !== undefined) {
    throw invalidArgument(`${file}.data.shuffleBuffer`, 'only a folder source is shuffled here: the world stream is random already');
  }
  if (config.data.source === 'folder' && !config.data.folder) throw invalidArgument(`${file}.data.folder`, 'expected the folder of videos with captions.jsonl');
  if (config.data.source === 'folder' && config.data.objectWeight > 0) {
    throw invalidArgument(`${file}.data.objectWeight`, 'expected 0 for a folder source: only the world knows where its objects are');
  }
  return config;
}

function parseNativeSize(v: unknown, path: string): TrainConfig['nativeSize'] {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(path, `expected {"width": w, "height": h}, got ${JSON.stringify(v)}`);
  return frameSize(v as Json, path);
}

/** `width` and `height` of a bucket or a native size: multiples of 16 from 16 to 512. */
function frameSize(o: Json, path: string): { width: number; height: number } {
  for (const side of ['width', 'height']) {
    if (typeof o[side] === 'number' && (o[side] as number) % 16 !== 0) throw invalidArgument(`${path}.${side}`, `expected a multiple of 16, got ${o[side]}`);
  }
  return { width: num(o, 'width', path, { min: 16, max: 512, int: true }), height: num(o, 'height', path, { min: 16, max: 512, int: true }) };
}

function parseCaptionLevels(v: unknown, path: string): Partial<Record<CaptionLevel, number>> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(path, 'expected {"short": w, "medium": w, "dense": w, "fact": w}');
  const out: Partial<Record<CaptionLevel, number>> = {};
  for (const [k, w] of Object.entries(v as Json)) {
    if (!(CAPTION_LEVELS as readonly string[]).includes(k)) throw invalidArgument(`${path}.${k}`, `expected one of ${CAPTION_LEVELS.join(', ')}`);
    if (typeof w !== 'number' || !(w >= 0)) throw invalidArgument(`${path}.${k}`, `expected a non-negative weight, got ${JSON.stringify(w)}`);
    out[k as CaptionLevel] = w;
  }
  return out;
}

/**
 * Reads a run config. A config may name another with `"extends": "FILE"` (a path relative to its own folder) and
 * give only what it changes: objects merge key by key, so `{"data": {"objectWeight": 2}}` changes one field of
 * `data`; arrays and plain values replace the base's. Chains are followed; a cycle is an error.
 */
export async function readTrainConfig(path: string): Promise<TrainConfig> {
  return parseTrainConfig(await readConfigJson(path, []), path);
}

async function readConfigJson(path: string, chain: string[]): Promise<unknown> {
  const where = chain.length === 0 ? '--config' : `${chain[chain.length - 1]}: extends`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new TesseraError('not_found', `${where}: cannot read ${path}`, { param: 'config' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TesseraError('invalid_argument', `${path}: not valid JSON (${(e as Error).message})`, { param: 'config' });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('extends' in json)) return json;
  const { extends: base, ...rest } = json as Json;
  if (typeof base !== 'string' || base === '') throw invalidArgument(`${path}: extends`, `expected the path of another config, got ${JSON.stringify(base)}`);
  // inheriting runDir would resume (and overwrite) the base's run
  if (chain.length === 0 && rest.runDir === undefined) throw invalidArgument(`${path}: runDir`, 'a config that extends another must name its own run folder');
  const basePath = resolve(dirname(path), base);
  if (chain.includes(basePath) || basePath === resolve(path)) {
    throw invalidArgument(`${path}: extends`, `the chain ${[...chain, resolve(path), basePath].join(' -> ')} is a cycle`);
  }
  return mergeConfig(await readConfigJson(basePath, [...chain, resolve(path)]), rest);
}

/** `over` laid on `base`: objects merge key by key, anything else (arrays included) replaces. */
function mergeConfig(base: unknown, over: unknown): unknown {
  const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return over;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v;
  return out;
}
