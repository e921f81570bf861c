/**
 * Placeholder until the native binding lands: the addon loader. Returns null when the addon is not built,
 * so the engine falls back to the reference kernels.
 */
import type { Kernels } from './types.js';

export function loadNativeKernels(): Kernels | null {
  return null;
}
