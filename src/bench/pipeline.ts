/**
 * End-to-end generation time: a 2-second (17-frame) clip with 25 steps and classifier-free guidance (scale 4, so
 * the DiT runs on a doubled batch), from prompt to MP4 on disk — prompt expansion, text encoding, sampling, VAE
 * decode, and writeVideo — at every native size of the model.
 *
 * The model is the bundled one when it is installed; otherwise a randomly initialised model with the architecture
 * of a preset ('world' by default), saved to a temporary folder and loaded the way a real one is. Speed does not
 * depend on the weights, so the figures hold for a trained model of that architecture.
 *
 * CPU time is this process's (the kernel pool included); the ffmpeg process that encodes the MP4 is not counted.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeVideo } from '../media/index.js';
import { defaultModelDir, loadPipeline, type TesseraPipeline } from '../pipelines/index.js';
import type { GenerationRequest } from '../pipelines/types.js';
import type { ProgressCallback } from '../progress.js';
import { buildRandomModel, saveBuiltModel } from '../train/init.js';
import { presetByName } from '../train/presets.js';
import { median, repeat, roundTo, timeOnce, type Timing } from './timing.js';

export interface PipelineBenchOptions {
  /** A model folder to measure; default the bundled model when it exists, else a random one of `preset`. */
  modelDir?: string;
  /** Architecture of the random model used when there is no bundled one (a name from train/presets); default 'world'. */
  preset?: string;
  /** Measure a random model of `preset` even when a bundled model is installed. */
  randomModel?: boolean;
  /** Output frames (default 17: two seconds at 8 fps), denoising steps (25) and guidance scale (4). */
  frames?: number;
  steps?: number;
  guidanceScale?: number;
  /** Sizes to generate at; default every native size of the model. */
  sizes?: { width: number; height: number }[];
  /** Timed generations per size (median reported) and untimed warm-up ones; default 3 and 1. */
  runs?: number;
  warmup?: number;
  prompt?: string;
  onProgress?: ProgressCallback;
}

/** Seconds of one size: median wall and CPU time, and the median of each pipeline stage in milliseconds. */
export interface GenerateTiming extends Timing {
  stages_ms: Record<string, number>;
}

export interface PipelineBenchResult {
  /** Keyed by size, e.g. "128x128". */
  generate_s: Record<string, GenerateTiming>;
  generate_model: {
    /** 'bundled': the installed model folder; 'random': a random model of `preset`'s architecture. */
    source: 'bundled' | 'random';
    dir: string | null;
    preset: string | null;
    parameters: { vae: number; transformer: number };
    /** Seconds to load the folder into a pipeline (not part of generate_s). */
    load_s: number;
    frames: number;
    fps: number;
    steps: number;
    guidance_scale: number;
    prompt: string;
  };
}

const DEFAULT_PROMPT = 'a red ball bounces to the right across a snowy meadow';

export async function benchPipeline(options: PipelineBenchOptions = {}): Promise<PipelineBenchResult> {
  const frames = options.frames ?? 17, steps = options.steps ?? 25, guidanceScale = options.guidanceScale ?? 4;
  const runs = options.runs ?? 3, warmup = options.warmup ?? 1;
  const prompt = options.prompt ?? DEFAULT_PROMPT;
  const fps = 8;

  const scratch = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  try {
    const model = await openModel(options, join(scratch, 'model'));
    const { pipe } = model;
    const sizes = options.sizes ?? pipe.capabilities.nativeSizes;
    const out = join(scratch, 'clip.mp4');
    const perSize = warmup + runs;
    const generate_s: Record<string, GenerateTiming> = {};

    for (const [sizeIndex, { width, height }] of sizes.entries()) {
      const request: GenerationRequest = {
        prompt, width, height, frames, fps, steps, guidanceScale, seed: 0, sampler: 'euler', expandPrompt: true,
      };
      const stageRuns: Record<string, number>[] = [];
      const timing = await repeat(async (run) => {
        const result = await pipe.generate(request);
        const write = await timeOnce(() => writeVideo(out, result.clip));
        if (run >= 0) stageRuns.push({ ...result.timings, write_ms: write.wall });
      }, {
        runs, warmup,
        onRun: (done) => options.onProgress?.({
          stage: 'bench pipeline', done: sizeIndex * perSize + done, total: sizes.length * perSize, info: { size: `${width}x${height}` },
        }),
      });
      generate_s[`${width}x${height}`] = {
        wall: roundTo(timing.wall / 1000, 3),
        cpu: roundTo(timing.cpu / 1000, 3),
        stages_ms: medianStages(stageRuns),
      };
    }

    const { vae, transformer } = pipe.parts;
    return {
      generate_s,
      generate_model: {
        source: model.source,
        dir: model.source === 'bundled' ? model.dir : null,
        preset: model.preset,
        parameters: { vae: vae.numParameters(), transformer: transformer.numParameters() },
        load_s: roundTo(model.loadMs / 1000, 3),
        frames, fps, steps, guidance_scale: guidanceScale, prompt,
      },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

interface OpenedModel {
  pipe: TesseraPipeline;
  source: 'bundled' | 'random';
  dir: string;
  preset: string | null;
  loadMs: number;
}

/** The model to measure: the given or bundled folder, else a random model of the preset written to `scratchDir`. */
async function openModel(options: PipelineBenchOptions, scratchDir: string): Promise<OpenedModel> {
  const bundled = options.modelDir !== undefined ? resolve(options.modelDir) : defaultModelDir();
  const useBundled = options.modelDir !== undefined || (!options.randomModel && existsSync(join(bundled, 'model_index.json')));
  let dir = bundled, preset: string | null = null;
  if (!useBundled) {
    preset = options.preset ?? 'world';
    const architecture = presetByName(preset);
    await saveBuiltModel(scratchDir, buildRandomModel(architecture), architecture);
    dir = scratchDir;
  }
  const load = await timeOnce(() => loadPipeline(dir));
  return { pipe: load.value, source: useBundled ? 'bundled' : 'random', dir, preset, loadMs: load.wall };
}

/** Per-stage medians over the timed runs, in whole milliseconds. */
function medianStages(stageRuns: readonly Record<string, number>[]): Record<string, number> {
  const names = new Set(stageRuns.flatMap((r) => Object.keys(r)));
  const stages: Record<string, number> = {};
  for (const name of names) stages[name.replace(/_ms$/, '')] = Math.round(median(stageRuns.map((r) => r[name] ?? 0)));
  return stages;
}
