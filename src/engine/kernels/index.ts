/**
 * Kernel selection: the native addon when it loads (float32), the TypeScript reference otherwise.
 * float64 always runs on the reference kernels (gradient checks).
 * TESSERA_KERNELS=reference forces the reference; TESSERA_QUIET silences the fallback warning.
 */
import { loadNativeKernels } from './native.js';
import { referenceKernels } from './reference.js';
import type { Kernels } from './types.js';

export type { Kernels, FloatArray, UnaryOp, BinaryOp, ReduceOp, Conv3dParams } from './types.js';
export { referenceKernels } from './reference.js';

let selected: Kernels | null = null;

function select(): Kernels {
  const requested = process.env['TESSERA_KERNELS'];
  if (requested === 'reference') return referenceKernels;
  let native: Kernels | null = null;
  let reason = 'the native addon is not built (run `npm run build:native`)';
  try {
    native = loadNativeKernels();
  } catch (e) {
    reason = `the native addon failed to load: ${(e as Error).message}`;
  }
  if (native !== null) return native;
  if (!process.env['TESSERA_QUIET']) {
    process.stderr.write(`tessera: using the slow TypeScript reference kernels: ${reason}\n`);
  }
  return referenceKernels;
}

/** Replaces the float32 kernels (tests and benchmarks); null restores the automatic choice. */
export function overrideKernels(kernels: Kernels | null): void {
  selected = kernels;
}

/** The kernels for tensors of a dtype: float64 always gets the reference kernels. */
export function getKernels(dtype: 'float32' | 'float64' = 'float32'): Kernels {
  if (dtype === 'float64') return referenceKernels;
  if (selected === null) selected = select();
  return selected;
}
