/**
 * Evaluation: generate every prompt at fixed seeds, grade each clip from its pixels with the world's judge, and
 * measure how far the generated clips sit from rendered clips of the same scenes (Frechet distance on the world
 * classifier's features). Results are split into seen and held-out combinations, short and dense prompts, and by
 * object count.
 *
 * Generation is a callback (`ClipGenerator`), so the same code grades a saved model through its pipeline
 * (`pipelineGenerator`), a model in the middle of training (`quickEval`), or rendered ground truth (tests).
 *
 * Scores per attribute are means over clips of the judge's per-clip fraction correct (clips with nothing to check
 * for an attribute, e.g. colour in a sprite-only scene, are left out of that attribute). `accuracy` pools every
 * check of every clip. The judge also grades the rendered reference clips once per prompt: that is its ceiling,
 * the score a perfect model would get, and the figure to read model scores against.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';
import { checkAborted, type ProgressCallback } from '../progress.js';
import type { VideoClip } from '../media/types.js';
import { frameView } from '../media/types.js';
import { psnr8 } from '../media/metrics.js';
import { noGrad } from '../engine/index.js';
import { videosToTensor, tensorToVideo, type CausalVideoVAE } from '../models/vae/index.js';
import type { GenerationRequest, TesseraPipeline } from '../pipelines/index.js';
import { judgeClip, type JudgeScores } from '../world/judge.js';
import { renderScene } from '../world/render.js';
import type { SceneSpec } from '../world/spec.js';
import { classifyClips, loadClassifier, type Attribute, type WorldClassifier } from './classifier.js';
import { frechetDistanceOf, type FrechetParts } from './fvd.js';
import type { EvalPrompt } from './prompts.js';

export const JUDGED_ATTRIBUTES = ['kind', 'colour', 'count', 'motion', 'background'] as const;
export type JudgedAttribute = (typeof JUDGED_ATTRIBUTES)[number];

/** Makes the clip for one prompt at one seed. */
export type ClipGenerator = (prompt: EvalPrompt, seed: number, opts: { signal?: AbortSignal }) => Promise<VideoClip>;

export interface SampleScores {
  /** Fraction correct per attribute; null where the scene has nothing to check. */
  attributes: Record<JudgedAttribute, number | null>;
  correct: number;
  checks: number;
  permanence: number;
  physics: number;
}

export interface SampleResult {
  id: string;
  seed: number;
  held_out: boolean;
  level: EvalPrompt['level'];
  objects: number;
  scores: SampleScores;
  /** What the world classifier reads in the generated clip (the first object and the background). */
  classifier?: Record<Attribute, string>;
  /** The objects the judge tracked in the generated clip: their number is what `count` checks. */
  found: FoundObject[];
  generateSeconds: number;
}

/** One object the judge tracked: what it named it. */
export interface FoundObject {
  kind: string;
  colour: string | null;
  motion: string;
}

/**
 * Clips by how many objects the prompt asked for, then by how many the judge found: whether a count is missed by
 * drawing too few objects (lost, merged) or too many (split, stray blobs).
 */
export type ObjectsFound = Record<string, Record<string, number>>;

export interface GroupSummary {
  samples: number;
  attributes: Record<JudgedAttribute, number | null>;
  /** Every check of every clip pooled. */
  accuracy: number | null;
  permanence: number | null;
  physics: number | null;
}

export interface DistanceSummary extends FrechetParts {
  /** Clips on each side. */
  clips: number;
  featureDim: number;
}

export interface EvalReport {
  prompts: number;
  seeds: number[];
  samples: number;
  scores: {
    all: GroupSummary;
    seen: GroupSummary | null;
    heldOut: GroupSummary | null;
    short: GroupSummary | null;
    dense: GroupSummary | null;
    byObjects: Record<string, GroupSummary>;
  };
  objectsFound: ObjectsFound;
  /** The judge on rendered clips of the same scenes (first seed): the ceiling a perfect model reaches. */
  reference: { all: GroupSummary; seen: GroupSummary | null; heldOut: GroupSummary | null } | null;
  /**
   * Frechet distance between classifier features of generated and rendered clips. Not comparable with published
   * FVD (I3D on Kinetics); compare only runs with the same classifier and the same number of clips.
   */
  distance: { all: DistanceSummary | null; seen: DistanceSummary | null; heldOut: DistanceSummary | null } | null;
  /** The video compression network alone: rendered clips of the prompts' scenes, encoded and decoded. */
  vae: VaeSummary | null;
  timings: { generateSeconds: number; judgeSeconds: number; distanceSeconds: number; vaeSeconds: number; totalSeconds: number };
  notes: string[];
  results: SampleResult[];
}

/** PSNR in dB of VAE reconstructions (mean over clips of each clip's PSNR over all its frames). */
export interface VaeSummary {
  clips: number;
  psnr: number;
  heldOutPsnr: number | null;
  /** Frame 0 is encoded alone; the last frame shows whether quality holds to the end of the clip. */
  firstFramePsnr: number;
  lastFramePsnr: number;
  /**
   * The judge on the reconstructions: what a diffusion model that produced the reference latents exactly would
   * score, so the VAE's share of the gap to the rendered ceiling.
   */
  judged: { all: GroupSummary; heldOut: GroupSummary | null };
}

/** Encodes and decodes a clip with the model's VAE. */
export type ClipReconstructor = (clip: VideoClip) => VideoClip;

export interface EvalOptions {
  /** Also measure the VAE on the rendered reference clips (first seed). */
  reconstruct?: ClipReconstructor | null;
  /** Default [0, 1]. */
  seeds?: number[];
  /** Feature extractor for the distance; null or absent: no distance. */
  classifier?: WorldClassifier | null;
  /** Grade rendered reference clips too (default true). */
  judgeReference?: boolean;
  /** Called with every generated clip once it is graded (e.g. to save it); awaited before the next one. */
  onSample?: (sample: { prompt: EvalPrompt; seed: number; clip: VideoClip; result: SampleResult }) => void | Promise<void>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** The reference scene for a generated clip: the prompt's spec at the clip's size and length, seed varied per sample. */
export function referenceSpec(spec: SceneSpec, clip: Pick<VideoClip, 'width' | 'height' | 'frames' | 'fps'>, seed: number): SceneSpec {
  return { ...spec, width: clip.width, height: clip.height, frames: clip.frames, fps: clip.fps, seed: (spec.seed + 7919 * seed) >>> 0 };
}

function sampleScores(s: JudgeScores): SampleScores {
  const attributes = {} as Record<JudgedAttribute, number | null>;
  for (const a of JUDGED_ATTRIBUTES) attributes[a] = Number.isFinite(s.attributes[a]) ? s.attributes[a] : null;
  return { attributes, correct: s.correct, checks: s.checks, permanence: s.permanence, physics: s.physics };
}

const meanOf = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Scores of a group of samples: per-attribute means over clips, pooled accuracy, mean permanence and physics. */
export function summarise(scores: readonly SampleScores[]): GroupSummary {
  const attributes = {} as Record<JudgedAttribute, number | null>;
  for (const a of JUDGED_ATTRIBUTES) attributes[a] = meanOf(scores.flatMap((s) => (s.attributes[a] === null ? [] : [s.attributes[a]!])));
  const checks = scores.reduce((n, s) => n + s.checks, 0);
  return {
    samples: scores.length,
    attributes,
    accuracy: checks > 0 ? scores.reduce((n, s) => n + s.correct, 0) / checks : null,
    permanence: meanOf(scores.map((s) => s.permanence)),
    physics: meanOf(scores.map((s) => s.physics)),
  };
}

function summariseWhere(results: readonly SampleResult[], keep: (r: SampleResult) => boolean): GroupSummary | null {
  const picked = results.filter(keep);
  return picked.length > 0 ? summarise(picked.map((r) => r.scores)) : null;
}

interface Features {
  generated: Float32Array[];
  reference: Float32Array[];
  heldOut: boolean[];
}

function distanceOf(features: Features, keep: (i: number) => boolean, dim: number): DistanceSummary | null {
  const idx = features.generated.map((_, i) => i).filter(keep);
  if (idx.length < 2) return null;
  const stack = (rows: Float32Array[]) => {
    const out = new Float64Array(idx.length * dim);
    idx.forEach((i, k) => out.set(rows[i]!, k * dim));
    return out;
  };
  const parts = frechetDistanceOf(stack(features.generated), idx.length, stack(features.reference), idx.length, dim);
  return { ...parts, clips: idx.length, featureDim: dim };
}

/** Generates, grades and measures every prompt at every seed. */
export async function evaluate(prompts: readonly EvalPrompt[], generate: ClipGenerator, opts: EvalOptions = {}): Promise<EvalReport> {
  const seeds = opts.seeds ?? [0, 1];
  const classifier = opts.classifier ?? null;
  const judgeReference = opts.judgeReference ?? true;
  const started = performance.now();
  const timings = { generateSeconds: 0, judgeSeconds: 0, distanceSeconds: 0, vaeSeconds: 0, totalSeconds: 0 };
  const results: SampleResult[] = [];
  const reference: { scores: SampleScores; held_out: boolean }[] = [];
  const features: Features = { generated: [], reference: [], heldOut: [] };
  const total = prompts.length * seeds.length;
  const notes: string[] = [];
  const reconstruct = opts.reconstruct ?? null;
  const recon: Reconstruction[] = [];

  for (const prompt of prompts) {
    for (const [k, seed] of seeds.entries()) {
      checkAborted(opts.signal);
      let t = performance.now();
      const clip = await generate(prompt, seed, { signal: opts.signal });
      const generateSeconds = (performance.now() - t) / 1000;
      timings.generateSeconds += generateSeconds;

      t = performance.now();
      const judged = judgeClip(clip, prompt.spec);
      const scores = sampleScores(judged);
      const needReference = classifier !== null || ((judgeReference || reconstruct !== null) && k === 0);
      const refClip = needReference ? renderScene(referenceSpec(prompt.spec, clip, seed)) : null;
      if (judgeReference && k === 0) reference.push({ scores: sampleScores(judgeClip(refClip!, prompt.spec)), held_out: prompt.held_out });
      timings.judgeSeconds += (performance.now() - t) / 1000;
      if (reconstruct && k === 0) {
        t = performance.now();
        recon.push(measureReconstruction(reconstruct, refClip!, prompt));
        timings.vaeSeconds += (performance.now() - t) / 1000;
      }

      const result: SampleResult = {
        id: prompt.id, seed, held_out: prompt.held_out, level: prompt.level, objects: prompt.objects, scores,
        found: judged.analysis.tracks.map((t) => ({ kind: t.kind, colour: t.colour ?? null, motion: t.motion })), generateSeconds,
      };
      if (classifier) {
        t = performance.now();
        const [gen, ref] = classifyClips(classifier, [clip, refClip!]);
        features.generated.push(gen!.features);
        features.reference.push(ref!.features);
        features.heldOut.push(prompt.held_out);
        result.classifier = gen!.labels;
        timings.distanceSeconds += (performance.now() - t) / 1000;
      }
      results.push(result);
      await opts.onSample?.({ prompt, seed, clip, result });
      opts.onProgress?.({
        stage: 'eval', done: results.length, total, fraction: results.length / total,
        info: { prompt: prompt.id, accuracy: summarise(results.map((r) => r.scores)).accuracy ?? 0 },
      });
    }
  }

  let distance: EvalReport['distance'] = null;
  if (classifier) {
    const t = performance.now();
    const dim = classifier.config.featureDim;
    distance = {
      all: distanceOf(features, () => true, dim),
      seen: distanceOf(features, (i) => !features.heldOut[i], dim),
      heldOut: distanceOf(features, (i) => features.heldOut[i]!, dim),
    };
    timings.distanceSeconds += (performance.now() - t) / 1000;
    if (results.length < 2 * dim) {
      notes.push(`distance from ${results.length} clips per side with ${dim}-dimensional features: covariances are rank-deficient, compare only runs of the same size`);
    }
  } else {
    notes.push('no world classifier: distance not computed');
  }
  timings.totalSeconds = (performance.now() - started) / 1000;

  const byObjects: Record<string, GroupSummary> = {};
  for (const n of [...new Set(results.map((r) => r.objects))].sort()) byObjects[n] = summariseWhere(results, (r) => r.objects === n)!;
  const refWhere = (keep: (r: { held_out: boolean }) => boolean) => {
    const picked = reference.filter(keep);
    return picked.length > 0 ? summarise(picked.map((r) => r.scores)) : null;
  };
  return {
    prompts: prompts.length,
    seeds,
    samples: results.length,
    scores: {
      all: summarise(results.map((r) => r.scores)),
      seen: summariseWhere(results, (r) => !r.held_out),
      heldOut: summariseWhere(results, (r) => r.held_out),
      short: summariseWhere(results, (r) => r.level === 'short'),
      dense: summariseWhere(results, (r) => r.level === 'dense'),
      byObjects,
    },
    objectsFound: objectsFoundOf(results),
    reference: reference.length > 0 ? { all: refWhere(() => true)!, seen: refWhere((r) => !r.held_out), heldOut: refWhere((r) => r.held_out) } : null,
    distance,
    vae: recon.length > 0 ? summariseReconstructions(recon) : null,
    timings,
    notes,
    results,
  };
}

export function objectsFoundOf(results: readonly Pick<SampleResult, 'objects' | 'found'>[]): ObjectsFound {
  const table: ObjectsFound = {};
  for (const r of results) {
    const row = (table[r.objects] ??= {});
    row[r.found.length] = (row[r.found.length] ?? 0) + 1;
  }
  return table;
}

// ---------------------------------------------------------------------------------------------------------------
// The VAE alone

/** One rendered clip encoded and decoded: PSNR over all frames, the first and the last, and the judge's grades. */
interface Reconstruction {
  all: number;
  first: number;
  last: number;
  held_out: boolean;
  scores: SampleScores;
}

function measureReconstruction(reconstruct: ClipReconstructor, clip: VideoClip, prompt: EvalPrompt): Reconstruction {
  const rec = reconstruct(clip);
  const last = clip.frames - 1;
  return {
    all: psnr8(rec.data, clip.data), first: psnr8(frameView(rec, 0), frameView(clip, 0)), last: psnr8(frameView(rec, last), frameView(clip, last)),
    held_out: prompt.held_out, scores: sampleScores(judgeClip(rec, prompt.spec)),
  };
}

function summariseReconstructions(recon: readonly Reconstruction[]): VaeSummary {
  const heldOut = recon.filter((r) => r.held_out);
  return {
    clips: recon.length,
    psnr: meanOf(recon.map((r) => r.all))!,
    heldOutPsnr: meanOf(heldOut.map((r) => r.all)),
    firstFramePsnr: meanOf(recon.map((r) => r.first))!,
    lastFramePsnr: meanOf(recon.map((r) => r.last))!,
    judged: { all: summarise(recon.map((r) => r.scores)), heldOut: heldOut.length > 0 ? summarise(heldOut.map((r) => r.scores)) : null },
  };
}

/** The size of the rendered clips a VAE is measured on. */
export interface ClipSize {
  width: number;
  height: number;
  frames: number;
  fps: number;
}

export interface VaeEvalReport {
  prompts: number;
  /** The seed the scenes are rendered with (a full evaluation measures its VAE at its first seed). */
  seed: number;
  size: ClipSize;
  vae: VaeSummary;
  timings: { renderSeconds: number; vaeSeconds: number; totalSeconds: number };
}

/**
 * Measures a VAE without a diffusion model: each prompt's scene rendered at `size`, encoded, decoded, compared
 * with PSNR and graded by the judge. Gives exactly the `vae` part of `evaluate` for clips of the same size at
 * the same first seed, so a new VAE can be judged before any DiT is trained on it.
 */
export async function evaluateVae(
  prompts: readonly EvalPrompt[], reconstruct: ClipReconstructor,
  opts: { size: ClipSize; seed?: number; onProgress?: ProgressCallback; signal?: AbortSignal },
): Promise<VaeEvalReport> {
  if (prompts.length === 0) throw invalidArgument('prompts', 'expected at least one prompt to measure the VAE on');
  const seed = opts.seed ?? 0;
  const started = performance.now();
  const timings = { renderSeconds: 0, vaeSeconds: 0, totalSeconds: 0 };
  const recon: Reconstruction[] = [];
  for (const prompt of prompts) {
    checkAborted(opts.signal);
    let t = performance.now();
    const clip = renderScene(referenceSpec(prompt.spec, opts.size, seed));
    timings.renderSeconds += (performance.now() - t) / 1000;
    t = performance.now();
    recon.push(measureReconstruction(reconstruct, clip, prompt));
    timings.vaeSeconds += (performance.now() - t) / 1000;
    opts.onProgress?.({ stage: 'eval', done: recon.length, total: prompts.length, fraction: recon.length / prompts.length, info: { prompt: prompt.id } });
  }
  timings.totalSeconds = (performance.now() - started) / 1000;
  return { prompts: prompts.length, seed, size: { ...opts.size }, vae: summariseReconstructions(recon), timings };
}

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** Generation through a loaded pipeline at the model's default size, length and sampling settings. */
export function pipelineGenerator(pipeline: TesseraPipeline, overrides: Partial<Omit<GenerationRequest, 'prompt' | 'seed'>> = {}): ClipGenerator {
  const d = pipeline.capabilities.defaults;
  return async (prompt, seed, { signal }) => {
    const request: GenerationRequest = {
      prompt: prompt.prompt, width: d.width, height: d.height, frames: d.frames, fps: d.fps, steps: d.steps,
      guidanceScale: d.guidanceScale, sampler: 'euler', expandPrompt: true, ...overrides, seed,
    };
    return (await pipeline.generate(request, { signal })).clip;
  };
}

/** Encode (mean) and decode in chunks, as the pipelines do. */
export function vaeReconstructor(vae: CausalVideoVAE): ClipReconstructor {
  return (clip) => ({ ...tensorToVideo(noGrad(() => vae.decodeChunked(vae.encodeChunked(videosToTensor([clip])).mean))), fps: clip.fps });
}

/** Renders each prompt's own scene: the "generator" a perfect model would be (tests, judge ceilings). */
export const groundTruthGenerator: ClipGenerator = async (prompt, seed) => renderScene(referenceSpec(prompt.spec, prompt.spec, seed));

// ---------------------------------------------------------------------------------------------------------------
// For training

/**
 * `limit` prompts spread over the file, with held-out ones in proportion (at least one when the file has any).
 * The prompt file cycles motions and backgrounds, so evenly spaced picks cover them.
 */
export function selectSubset(prompts: readonly EvalPrompt[], limit: number): EvalPrompt[] {
  if (limit >= prompts.length) return [...prompts];
  const heldOut = prompts.filter((p) => p.held_out);
  const seen = prompts.filter((p) => !p.held_out);
  const wantHeld = heldOut.length === 0 ? 0 : Math.max(1, Math.round((limit * heldOut.length) / prompts.length));
  const spread = <T>(xs: readonly T[], n: number) => Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
  const picked = new Set([...spread(seen, limit - wantHeld), ...spread(heldOut, wantHeld)]);
  return prompts.filter((p) => picked.has(p));
}

/** The default classifier folder, when it exists: models/world-classifier under the package root. */
export async function defaultClassifier(root: string): Promise<WorldClassifier | null> {
  const dir = join(root, 'models', 'world-classifier');
  return existsSync(join(dir, 'config.json')) ? loadClassifier(dir) : null;
}

export interface QuickEvalOptions extends Omit<EvalOptions, 'judgeReference'> {
  /** Prompts to draw the subset from (e.g. readPromptFile('eval/prompts.jsonl')). */
  prompts: readonly EvalPrompt[];
  /** How many prompts (default 16). */
  limit?: number;
}

/**
 * A small evaluation for use inside training (every N steps): a fixed subset of prompts at one seed, no reference
 * grading, and a flat record ready for MetricsLog (`eval/accuracy`, `eval/motion`, `eval/heldout_accuracy`,
 * `eval/distance`, ...).
 */
export async function quickEval(generate: ClipGenerator, opts: QuickEvalOptions): Promise<{ report: EvalReport; metrics: Record<string, number> }> {
  const subset = selectSubset(opts.prompts, opts.limit ?? 16);
  const report = await evaluate(subset, generate, { ...opts, seeds: opts.seeds ?? [0], judgeReference: false });
  return { report, metrics: flattenReport(report) };
}

/** The headline numbers of a report as flat metric names (absent values left out). */
export function flattenReport(report: EvalReport, prefix = 'eval/'): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, v: number | null | undefined) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[`${prefix}${name}`] = v;
  };
  const s = report.scores.all;
  put('accuracy', s.accuracy);
  for (const a of JUDGED_ATTRIBUTES) put(a, s.attributes[a]);
  put('permanence', s.permanence);
  put('physics', s.physics);
  put('seen_accuracy', report.scores.seen?.accuracy);
  put('heldout_accuracy', report.scores.heldOut?.accuracy);
  put('distance', report.distance?.all?.distance);
  put('vae_psnr', report.vae?.psnr);
  put('seconds', report.timings.totalSeconds);
  return out;
}
