/**
 * The tiny DiT run the training tests share: the tiny preset on world clips at 32×32, three steps, one
 * checkpoint at the end. A test overrides what it is about; `data` and `optim` merge key by key.
 */
import { Rng } from '../../src/engine/index.js';
import { CausalVideoVAE } from '../../src/models/vae/index.js';
import { TINY_PRESET } from '../../src/train/presets.js';

/** Saves an untrained tiny-preset VAE (a fixed seed, so every test's latents are alike) and returns its folder. */
export async function saveTinyVae(dir: string): Promise<string> {
  await new CausalVideoVAE(TINY_PRESET.vae, new Rng(9)).savePretrained(dir);
  return dir;
}

type Over = Record<string, unknown> & { data?: Record<string, unknown>; optim?: Record<string, unknown> };

/** A raw DiT run config (before `parseTrainConfig`) for a run in `runDir` on the VAE in `vaeDir`. */
export function tinyDitConfig(runDir: string, vaeDir: string, over: Over = {}): Record<string, unknown> {
  const { data, optim, ...rest } = over;
  return {
    task: 'dit', runDir, seed: 3, preset: 'tiny', vaeFrom: vaeDir,
    data: { source: 'world', buckets: [{ width: 32, height: 32, frames: 9, batch: 1, weight: 1 }], ...data },
    optim: { lr: 0.002, warmupSteps: 1, totalSteps: 3, ...optim },
    checkpointEvery: 3, logEvery: 1, ...rest,
  };
}
