/**
 * `tessera train vae|dit`: builds the models and the data source a config asks for, runs the shared loop, and
 * exports the EMA weights as a model folder at every checkpoint (runDir/export), so an interrupted run always
 * leaves a usable model behind. A run resumes from its last checkpoint; a fresh machine without one starts from
 * `initFrom` (a model folder) with a fresh optimizer.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng, noGrad } from '../engine/index.js';
import { writeFileAtomically } from '../atomic.js';
import { TesseraError } from '../errors.js';
import type { ProgressCallback } from '../progress.js';
import { CausalVideoVAE, videosToTensor, tensorToVideo, psnr } from '../models/vae/index.js';
import { loadModel, loadVae } from '../models/index.js';
import { TesseraPipeline } from '../pipelines/index.js';
import { expandPrompt } from '../world/index.js';
import { Telemetry, readMetrics, seriesFromMetrics, writeLossCurve } from './telemetry.js';
import type { TrainConfig } from './config.js';
import { runTrainingLoop, type LoopResult, type TrainTask } from './loop.js';
import { DitTask, VaeTask, type ClipSource } from './tasks.js';
import type { DiTConfig } from '../models/dit/index.js';
import { FolderClipSource, WorldClipSource } from './sources.js';
import { adaptTransformer, buildRandomModel, saveBuiltModel, type BuiltModel } from './init.js';
import { resolvePreset } from './presets.js';
import { pretrainTextEncoder } from './text-pretrain.js';
import { loadLatestCheckpoint } from './checkpoint.js';

export interface RunOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Override the config's stop (tests, staged runs). */
  stopAtStep?: number;
}

function makeSource(config: TrainConfig): ClipSource {
  if (config.data.source === 'folder') {
    return new FolderClipSource(config.data.folder!, config.data.buckets, { seed: config.seed, shuffleBuffer: config.data.shuffleBuffer! });
  }
  return new WorldClipSource({ buckets: config.data.buckets, seed: config.seed, heldOut: config.data.heldOut, captionLevels: config.data.captionLevels, mix: config.data.mix });
}

/** The bucket with the most pixels: the VAE is calibrated and measured on the clips hardest to reconstruct. */
function largestBucket(config: TrainConfig): TrainConfig['data']['buckets'][number] {
  const volume = (b: { width: number; height: number; frames: number }) => b.width * b.height * b.frames;
  return config.data.buckets.reduce((best, b) => (volume(b) > volume(best) ? b : best));
}

/**
 * Sets the VAE's latent normalisation from data: the diffusion model wants latents near zero mean and unit
 * variance, whatever scale the encoder happened to learn.
 */
export function calibrateLatents(vae: CausalVideoVAE, source: ClipSource, config: TrainConfig): Promise<{ shift: number; scale: number }> {
  return (async () => {
    const bucket = largestBucket(config);
    const { clips } = await source.nextBatch(bucket, 8);
    const z = noGrad(() => vae.encode(videosToTensor(clips)).mean);
    let sum = 0;
    let sq = 0;
    for (const v of z.data) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / z.size;
    const std = Math.sqrt(Math.max(1e-12, sq / z.size - mean * mean));
    return { shift: mean, scale: 1 / std };
  })();
}

export async function runTraining(config: TrainConfig, opts: RunOptions = {}): Promise<LoopResult> {
  await mkdir(config.runDir, { recursive: true });
  // The config as read (any `extends` resolved), so a run folder says what made it; rewritten by each resume.
  await writeFileAtomically(join(config.runDir, 'train_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const preset = resolvePreset(config.preset, config.model);
  const telemetry = new Telemetry(config.runDir, { title: `${config.task} training loss` });
  const onLog = (record: Record<string, number>) => {
    const { step, ...rest } = record;
    telemetry.log(step!, rest);
  };
  /** loss.png from the whole run (earlier processes included), redrawn at each checkpoint. */
  const drawChart = () => writeLossCurve(join(config.runDir, 'loss.png'), seriesFromMetrics(readMetrics(telemetry.metrics.path), ['loss']), { title: `${config.task} training loss` });
  const source = makeSource(config);
  const exportDir = join(config.runDir, 'export');
  let task: TrainTask;

  if (config.task === 'vae') {
    const vae = config.initFrom ? await loadVae(config.initFrom) : new CausalVideoVAE(preset.vae, new Rng(config.seed).fork('vae'));
    const heldOut = new WorldClipSource({ buckets: config.data.buckets, seed: config.seed + 1_000_003 });
    const vaeTask = new VaeTask(vae, source, config.data.buckets, config.vaeLoss);
    vaeTask.onCheckpoint = async (step) => {
      // a frozen encoder keeps the latent space a DiT may already be trained on, scaling included
      if (!config.vaeLoss.freezeEncoder) {
        const { shift, scale } = await calibrateLatents(vae, heldOut, config);
        vae.config.shiftFactor = shift;
        vae.config.scalingFactor = scale;
      }
      const { shiftFactor: shift, scalingFactor: scale } = vae.config;
      await vae.savePretrained(join(exportDir, 'vae'));
      const bucket = largestBucket(config);
      const { clips } = await new WorldClipSource({ buckets: [bucket], seed: 4242 }).nextBatch(bucket, 4);
      const x = videosToTensor(clips);
      const rec = noGrad(() => vae.decode(vae.encode(x).mean));
      onLog({ step, heldout_psnr: psnr(rec, x), latent_shift: shift, latent_scale: scale });
      await drawChart();
      const labels = clips.map((_, i) => `clip ${i}`);
      const recon = clips.map((_, i) => tensorToVideo(rec, i));
      await telemetry.writeSamples(step, [
        ...clips.map((c, i) => ({ clip: c, label: `${labels[i]} input` })),
        ...recon.map((c, i) => ({ clip: { ...c, fps: 8 }, label: `${labels[i]} decoded` })),
      ]);
    };
    task = vaeTask;
  } else {
    let model: BuiltModel;
    if (config.initFrom) {
      const m = await loadModel(config.initFrom);
      if (!m.transformer || !m.textEncoder || !m.tokenizer || !m.vae) {
        throw new TesseraError('corrupt_file', `${config.initFrom}: initFrom must be a full model folder`, { param: 'initFrom' });
      }
      model = { vae: m.vae, transformer: m.transformer, textEncoder: m.textEncoder, tokenizer: m.tokenizer };
    } else {
      model = buildRandomModel(preset, config.seed);
    }
    if (config.vaeFrom) model.vae = await loadVae(config.vaeFrom);
    // a model loaded from initFrom keeps its architecture unless the run's config overrides a field of it
    const fresh = adaptTransformer(model, (config.initFrom ? config.model.transformer : {}) as Partial<DiTConfig>, config.seed);
    if (fresh.length > 0) {
      process.stderr.write(`train: transformer re-shaped for the VAE (${model.vae.config.latentChannels} latent channels) and the config; started fresh: ${fresh.join(', ')}\n`);
    }
    if (config.textPretrainSteps > 0 && !(await loadLatestCheckpoint(config.runDir))) {
      const accuracy = pretrainTextEncoder(model.textEncoder, model.tokenizer, {
        steps: config.textPretrainSteps, seed: config.seed, captionLevels: config.data.captionLevels, onProgress: opts.onProgress,
      });
      onLog({ step: 0, ...Object.fromEntries(Object.entries(accuracy).map(([k, v]) => [`text_pretrain_${k}_accuracy`, v])) });
    }
    const ditTask = new DitTask(model, source, config.data.buckets, {
      captionDropout: config.data.captionDropout,
      conditionRate: config.data.conditionRate,
      objectWeight: config.data.objectWeight,
      objectWeightMaxTime: config.data.objectWeightMaxTime,
      noiseCorrelation: config.data.noiseCorrelation,
      uniformTimeFraction: config.data.uniformTimeFraction,
      noiseOffset: config.data.noiseOffset,
      temporalDifferenceWeight: config.data.temporalDifferenceWeight,
      latentCacheBytes: (config.data.latentCacheMB ?? 0) * 2 ** 20,
      shiftBaseTokens: preset.scheduler.shiftBaseTokens,
      maxShift: preset.scheduler.maxShift,
    });
    // the export samples with the noise prior it was trained on
    const ditScheduler = config.data.noiseCorrelation > 0 ? { ...preset.scheduler, noiseCorrelation: config.data.noiseCorrelation } : preset.scheduler;
    // a run at one size (nativeSize) exports, and samples at, that size
    const runCapabilities = config.nativeSize
      ? { ...preset.capabilities, nativeSizes: [config.nativeSize], defaults: { ...preset.capabilities.defaults, ...config.nativeSize } }
      : preset.capabilities;
    ditTask.onCheckpoint = async (step) => {
      const capabilities = { ...runCapabilities, training: { step, preset: config.preset } };
      await saveBuiltModel(exportDir, model, { capabilities, scheduler: ditScheduler });
      await drawChart();
    };
    ditTask.onSample = async (step) => {
      // sample through the real pipeline, from the weights in memory (the EMA ones: the loop swaps them in)
      const pipe = new TesseraPipeline({
        vae: model.vae,
        transformer: model.transformer,
        text: { encode: (texts) => model.textEncoder.encodePrompts(model.tokenizer, texts) },
        expandPrompt: async (prompt, { seed }) => expandPrompt(prompt, { seed }).caption,
        capabilities: { ...runCapabilities, temporalCompression: model.vae.temporalFactor, sizeMultiple: model.vae.spatialFactor * model.transformer.config.patchSize[1] },
        scheduler: ditScheduler,
      });
      const d = runCapabilities.defaults;
      const samples = [];
      for (const [i, prompt] of SAMPLE_PROMPTS.entries()) {
        const res = await pipe.generate({ prompt, width: d.width, height: d.height, frames: d.frames, fps: d.fps, steps: 20, guidanceScale: d.guidanceScale, seed: i, sampler: 'euler', expandPrompt: true });
        samples.push({ clip: res.clip, label: prompt });
      }
      await telemetry.writeSamples(step, samples);
    };
    task = ditTask;
  }

  try {
    return await runTrainingLoop(task, {
    runDir: config.runDir,
    seed: config.seed,
    optim: config.optim,
    checkpointEvery: config.checkpointEvery,
    logEvery: config.logEvery,
    sampleEvery: config.sampleEvery,
    maxMinutes: config.maxMinutes,
    stopAtStep: opts.stopAtStep,
    }, { onProgress: opts.onProgress, onLog, signal: opts.signal });
  } finally {
    telemetry.close();
  }
}

/** Fixed prompts whose samples are written during DiT training, so progress can be seen. */
export const SAMPLE_PROMPTS = [
  'a red ball bounces on a snowy meadow',
  'an elephant walks across a grass field',
  'a yellow star spins on a plain blue background',
];
