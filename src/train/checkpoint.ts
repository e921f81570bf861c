/**
 * Training checkpoints that survive being killed at any moment.
 *
 * A checkpoint is a folder `step-00001234/` holding the weights, the EMA weights and the optimizer moments as
 * float32 safetensors, and `state.json` with everything else needed to continue bit-exactly (step counters, RNG
 * state, the data cursor, wall-clock spent). It is written under a temporary name, every file fsynced, then
 * renamed into place; `latest.json` is replaced atomically last. A crash leaves either the previous checkpoint or
 * the new one, never a torn one, and stale temporary folders are swept on the next save.
 */
import { mkdir, readdir, rename, rm, readFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import type { AdamWState, EMAState } from '../optim/index.js';
import { readSafetensors, writeSafetensors, writeFileAtomically } from '../formats/index.js';
import { TesseraError } from '../errors.js';

export interface TrainingCheckpoint {
  step: number;
  /** Trainable weights by name (Module.stateDict()). */
  weights: Map<string, Tensor>;
  optimizer: AdamWState;
  ema: EMAState | null;
  /** JSON-serialisable rest: rng state, data cursor, samples seen, elapsed seconds, config... */
  meta: Record<string, unknown>;
}

/** What load returns: weights and moments as plain float32 arrays (the caller copies them into its modules). */
export interface LoadedCheckpoint {
  step: number;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamWState;
  ema: EMAState | null;
  meta: Record<string, unknown>;
  dir: string;
}

const LATEST = 'latest.json';

function stepName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Saves a checkpoint under runDir/checkpoints and keeps the newest `keep` of them. */
export async function saveCheckpoint(runDir: string, ckpt: TrainingCheckpoint, { keep = 2 }: { keep?: number } = {}): Promise<string> {
  const root = join(runDir, 'checkpoints');
  await mkdir(root, { recursive: true });
  const name = stepName(ckpt.step);
  const tmp = join(root, `.${name}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);

  await writeSafetensors(join(tmp, 'model.safetensors'), ckpt.weights);
  const moments = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  for (const [k, m] of Object.entries(ckpt.optimizer.m)) moments.set(`m.${k}`, { shape: [m.length], data: m });
  for (const [k, v] of Object.entries(ckpt.optimizer.v)) moments.set(`v.${k}`, { shape: [v.length], data: v });
  await writeSafetensors(join(tmp, 'optimizer.safetensors'), moments);
  if (ckpt.ema) {
    const shadows = new Map(Object.entries(ckpt.ema.shadow).map(([k, s]) => [k, { shape: [s.length], data: s }] as const));
    await writeSafetensors(join(tmp, 'ema.safetensors'), shadows);
  }
  const { m: _m, v: _v, ...optScalars } = ckpt.optimizer;
  const state = {
    step: ckpt.step,
    optimizer: optScalars,
    ema: ckpt.ema ? { step: ckpt.ema.step, decay: ckpt.ema.decay } : null,
    meta: ckpt.meta,
  };
  await writeFileAtomically(join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  await syncDir(tmp);

  const final = join(root, name);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await syncDir(root);
  await writeFileAtomically(join(runDir, LATEST), JSON.stringify({ checkpoint: join('checkpoints', name), step: ckpt.step }) + '\n');

  // prune: older checkpoints beyond `keep`, and temporary folders left by a crash
  const entries = (await readdir(root)).sort();
  const done = entries.filter((e) => /^step-\d+$/.test(e));
  for (const old of done.slice(0, Math.max(0, done.length - keep))) await rm(join(root, old), { recursive: true, force: true });
  for (const e of entries) if (e.startsWith('.') && e !== `.${name}.tmp-${process.pid}`) await rm(join(root, e), { recursive: true, force: true });
  return final;
}

/** The checkpoint `latest.json` points to, or null when the run has none yet. */
export async function loadLatestCheckpoint(runDir: string): Promise<LoadedCheckpoint | null> {
  let pointer: { checkpoint: string };
  try {
    pointer = JSON.parse(await readFile(join(runDir, LATEST), 'utf8')) as { checkpoint: string };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TesseraError('corrupt_file', `${join(runDir, LATEST)}: ${(e as Error).message}`, { param: runDir });
  }
  return loadCheckpoint(join(runDir, pointer.checkpoint));
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  let state: { step: number; optimizer: Omit<AdamWState, 'm' | 'v'>; ema: { step: number; decay: number } | null; meta: Record<string, unknown> };
  try {
    state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
  } catch (e) {
    throw new TesseraError('corrupt_file', `${join(dir, 'state.json')}: ${(e as Error).message}`, { param: dir });
  }
  const model = await readSafetensors(join(dir, 'model.safetensors'));
  const weights = new Map([...model.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }] as const));
  const opt = await readSafetensors(join(dir, 'optimizer.safetensors'));
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [k, t] of opt.tensors) {
    if (k.startsWith('m.')) m[k.slice(2)] = t.data;
    else if (k.startsWith('v.')) v[k.slice(2)] = t.data;
  }
  let ema: EMAState | null = null;
  if (state.ema) {
    const e = await readSafetensors(join(dir, 'ema.safetensors'));
    ema = { step: state.ema.step, decay: state.ema.decay, shadow: Object.fromEntries([...e.tensors].map(([k, t]) => [k, t.data])) };
  }
  return { step: state.step, weights, optimizer: { ...state.optimizer, m, v }, ema, meta: state.meta, dir };
}
