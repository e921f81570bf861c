/**
 * Shared helpers of the native op tests: loading the addon directly, random inputs, float comparison and
 * running a check under every instruction set the CPU supports (the addon's `setOpsIsa` test hook).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Rng } from '../../src/engine/random.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Addon = Record<string, any>;

/** The built addon, or null (tests then skip with the reason). TESSERA_NATIVE_ADDON overrides the path. */
export function loadAddon(): { addon: Addon | null; reason: string } {
  const path = process.env['TESSERA_NATIVE_ADDON'] ?? '../../build/Release/tessera_native.node';
  try {
    const addon = createRequire(import.meta.url)(path) as Addon;
    if (typeof addon['setOpsIsa'] !== 'function') return { addon: null, reason: 'addon built without the op kernels' };
    return { addon, reason: '' };
  } catch (e) {
    return { addon: null, reason: `native addon not built (npm run build:native): ${(e as Error).message}` };
  }
}

/** Float32Array of n normal (or uniform in [lo, hi)) samples. */
export function randn(rng: Rng, n: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}
export function randu(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(lo, hi);
  return a;
}

/** Asserts |a - e| <= atol + rtol * |e| elementwise, naming the worst element on failure. */
export function assertClose(
  actual: Float32Array, expected: ArrayLike<number>, label: string, rtol = 1e-4, atol = 1e-5,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (Number.isNaN(a) !== Number.isNaN(e) || (!Number.isFinite(e) && a !== e)) {
      assert.fail(`${label}: element ${i} is ${a}, expected ${e}`);
    }
    if (!Number.isFinite(e)) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) assert.fail(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]}`);
}

/** Instruction sets of the op kernels this CPU can run, best first. */
export function availableIsas(addon: Addon): string[] {
  const current = addon['opsIsa']() as string;
  const isas = ['avx512f', 'avx2', 'portable'].filter((isa) => addon['setOpsIsa'](isa) === true);
  addon['setOpsIsa'](current);
  return isas;
}

/** Runs fn once per available instruction set (restoring the original afterwards). */
export function forEachIsa(addon: Addon, fn: (isa: string) => void): void {
  const current = addon['opsIsa']() as string;
  try {
    for (const isa of availableIsas(addon)) {
      addon['setOpsIsa'](isa);
      fn(isa);
    }
  } finally {
    addon['setOpsIsa'](current);
  }
}
