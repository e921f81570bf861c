/**
 * One training loop for every model (the VAE, the DiT with its text encoder): a `TrainTask` says how to draw a
 * batch and compute its loss; the loop owns everything else — AdamW with warm-up + cosine, gradient clipping, EMA,
 * NaN/Inf guards with roll-back, checkpoints that resume bit-exactly, telemetry, the progress bar, time budgets
 * and a clean stop on SIGINT/SIGTERM.
 */
import { Module } from '../nn/index.js';
import { Rng, type RngState, type Tensor } from '../engine/index.js';
import { AdamW, EMA, clipGradNorm, warmupCosine } from '../optim/index.js';
import type { ProgressCallback } from '../progress.js';
import { TesseraError } from '../errors.js';
import { saveCheckpoint, loadLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';

export interface OptimConfig {
  lr: number;
  minLr?: number;
  warmupSteps: number;
  totalSteps: number;
  weightDecay: number;
  betas?: [number, number];
  gradClip: number;
  emaDecay: number;
}

export interface LoopConfig {
  runDir: string;
  seed: number;
  optim: OptimConfig;
  checkpointEvery: number;
  logEvery: number;
  /** Sample grids / quick evaluation every N steps (0 = never). */
  sampleEvery: number;
  /** Stop (after a checkpoint) when this much wall time has passed in this process. */
  maxMinutes?: number;
  /** Stop at this step even if totalSteps is larger (for staged runs and tests). */
  stopAtStep?: number;
}

export interface StepResult {
  loss: Tensor;
  /** Samples in the batch (for samples/s). */
  samples: number;
  metrics?: Record<string, number>;
}

export interface TrainTask {
  readonly name: string;
  /** Every trainable module by name; their parameters are optimised and averaged. */
  readonly modules: Record<string, Module>;
  /** Computes the loss of the next batch (forward only; the loop calls backward). `rng` is the loop's stream. */
  step(rng: Rng, step: number): Promise<StepResult> | StepResult;
  /** Position in the data stream, JSON-serialisable, and its restore. */
  dataCursor(): unknown;
  seekData(cursor: unknown): void;
  /** Called every sampleEvery steps with the EMA weights swapped in. */
  onSample?(step: number, runDir: string): Promise<void>;
  /** Called at each checkpoint with the EMA weights swapped in (e.g. export a model folder). */
  onCheckpoint?(step: number, runDir: string): Promise<void>;
}

export interface LoopEvents {
  onProgress?: ProgressCallback;
  /** One record per log step: the loop's own figures plus the task's metrics. */
  onLog?: (record: Record<string, number>) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Holds the task's modules as children so names come out as "transformer.blocks.0...". */
class ModuleSet extends Module {
  constructor(parts: Record<string, Module>) {
    super();
    Object.assign(this, parts);
  }
}

export interface LoopResult {
  step: number;
  samplesSeen: number;
  stoppedBy: 'done' | 'time' | 'signal' | 'stopAtStep';
  skippedSteps: number;
}

const MAX_CONSECUTIVE_BAD_STEPS = 5;
/** Roll-backs after which a run is declared diverged instead of looping on a poisonous stretch. */
const MAX_ROLLBACKS = 3;

export async function runTrainingLoop(task: TrainTask, config: LoopConfig, events: LoopEvents = {}): Promise<LoopResult> {
  const model = new ModuleSet(task.modules);
  const named = model.namedParameters();
  const o = config.optim;
  const optimizer = new AdamW(named, { lr: o.lr, betas: o.betas ?? [0.9, 0.999], weightDecay: o.weightDecay });
  const ema = new EMA(model, { decay: o.emaDecay });
  const lrAt = warmupCosine({ baseLr: o.lr, warmupSteps: o.warmupSteps, totalSteps: o.totalSteps, minLr: o.minLr ?? o.lr * 0.05 });

  let step = 0;
  let samplesSeen = 0;
  let elapsedBefore = 0; // seconds spent in earlier processes of this run
  let rng = new Rng(config.seed).fork('train-loop');
  const resumed = await loadLatestCheckpoint(config.runDir);
  if (resumed) {
    restore(model, optimizer, ema, resumed);
    step = resumed.step;
    const meta = resumed.meta as { rng: RngState; samplesSeen: number; elapsedSeconds: number; cursor: unknown };
    rng = Rng.fromState(meta.rng);
    samplesSeen = meta.samplesSeen;
    elapsedBefore = meta.elapsedSeconds;
    task.seekData(meta.cursor);
  }

  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  const checkpoint = async () => {
    await saveCheckpoint(config.runDir, {
      step,
      weights: model.stateDict(),
      optimizer: optimizer.state(),
      ema: ema.state(),
      meta: { rng: rng.state(), samplesSeen, elapsedSeconds: elapsed(), cursor: task.dataCursor(), task: task.name },
    });
    if (task.onCheckpoint) await withEma(ema, model, () => task.onCheckpoint!(step, config.runDir));
  };

  let skipped = 0;
  let consecutiveBad = 0;
  let rollbacks = 0;
  let windowLoss = 0;
  let windowSteps = 0;
  let windowSamples = 0;
  let windowStart = performance.now();
  const lastStep = Math.min(o.totalSteps, config.stopAtStep ?? Infinity);
  let stoppedBy: LoopResult['stoppedBy'] = 'done';

  while (step < lastStep) {
    // A step runs without touching the event loop; yield once so a SIGINT/SIGTERM handler can run and stop
    // the run after this step, not at the next checkpoint's file I/O.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (events.signal?.aborted) {
      stoppedBy = 'signal';
      break;
    }
    if (config.maxMinutes !== undefined && (performance.now() - t0) / 60000 >= config.maxMinutes) {
      stoppedBy = 'time';
      break;
    }
    const stepRng = rng.fork(`step.${step}`);
    const { loss, samples, metrics } = await task.step(stepRng, step);
    const lossValue = loss.item();
    let gradNorm = Number.NaN;
    if (Number.isFinite(lossValue)) {
      loss.backward();
      gradNorm = clipGradNorm(model.parameters(), o.gradClip);
    }
    if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
      // A bad batch never reaches the weights: drop its gradients and move on; repeated bad steps roll back.
      optimizer.zeroGrad();
      skipped++;
      consecutiveBad++;
      if (consecutiveBad >= MAX_CONSECUTIVE_BAD_STEPS) {
        const last = await loadLatestCheckpoint(config.runDir);
        if (!last) throw new TesseraError('internal', `training diverged at step ${step} (loss ${lossValue}) before any checkpoint`);
        if (++rollbacks > MAX_ROLLBACKS) {
          throw new TesseraError('internal', `training diverged: ${MAX_ROLLBACKS} roll-backs to step ${last.step} did not help (loss ${lossValue}); lower the learning rate or check the data`);
        }
        restore(model, optimizer, ema, last);
        step = last.step;
        rng = Rng.fromState((last.meta as { rng: RngState }).rng).fork(`rollback.${skipped}`);
        task.seekData((last.meta as { cursor: unknown }).cursor);
        consecutiveBad = 0;
      } else {
        step++;
        rng = rng.fork('skip');
      }
      continue;
    }
    consecutiveBad = 0;
    optimizer.lr = lrAt(step);
    optimizer.step();
    optimizer.zeroGrad();
    ema.update();
    step++;
    samplesSeen += samples;
    rng = rng.fork('next');

    windowLoss += lossValue;
    windowSteps++;
    windowSamples += samples;
    const secs = (performance.now() - windowStart) / 1000;
    events.onProgress?.({
      stage: `train ${task.name}`, done: step, total: lastStep,
      info: { loss: Number(lossValue.toFixed(4)), 'samples/s': Number((windowSamples / Math.max(secs, 1e-9)).toFixed(2)) },
    });
    if (step % config.logEvery === 0 || step === lastStep) {
      await events.onLog?.({
        step, loss: windowLoss / windowSteps, lr: optimizer.lr, grad_norm: gradNorm, samples_per_second: windowSamples / Math.max(secs, 1e-9),
        samples_seen: samplesSeen, elapsed_seconds: elapsed(), skipped_steps: skipped, ...metrics,
      });
      windowLoss = 0;
      windowSteps = 0;
      windowSamples = 0;
      windowStart = performance.now();
    }
    if (step % config.checkpointEvery === 0) await checkpoint();
    if (config.sampleEvery > 0 && step % config.sampleEvery === 0 && task.onSample) {
      await withEma(ema, model, () => task.onSample!(step, config.runDir));
    }
  }
  if (step === lastStep && stoppedBy === 'done' && lastStep < o.totalSteps) stoppedBy = 'stopAtStep';
  await checkpoint();
  return { step, samplesSeen, stoppedBy, skippedSteps: skipped };
}

function restore(model: Module, optimizer: AdamW, ema: EMA, ckpt: LoadedCheckpoint): void {
  for (const [name, param] of model.stateDict()) {
    const stored = ckpt.weights.get(name);
    if (!stored) throw new TesseraError('corrupt_file', `${ckpt.dir}: checkpoint has no tensor ${name}`, { param: name });
    if (stored.data.length !== param.size) {
      throw new TesseraError('corrupt_file', `${ckpt.dir}: ${name} has ${stored.data.length} values, the model ${param.size}`, { param: name });
    }
    param.data.set(stored.data);
  }
  optimizer.loadState(ckpt.optimizer);
  if (ckpt.ema) ema.loadState(ckpt.ema);
}

/** Runs fn with the EMA weights in the model, then puts the raw weights back. */
async function withEma<T>(ema: EMA, _model: Module, fn: () => Promise<T>): Promise<T> {
  ema.swap();
  try {
    return await fn();
  } finally {
    ema.swap();
  }
}
