/**
 * The native kernels: the C++ addon (build/Release/tessera_native.node, built by `npm run build:native`)
 * wrapped as a `Kernels` object.
 *
 * Every `Kernels` method calls the addon function of the same name (same argument order) when the addon
 * exports one, and the reference implementation otherwise, so a kernel that is not ported yet still works.
 * The addon is float32 only: a call with any Float64Array argument always goes to the reference kernels.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { referenceKernels } from './reference.js';
import type { Kernels } from './types.js';

/** The addon's own functions, beside the kernels named like the `Kernels` methods. */
export interface NativeAddon {
  /** Instruction set of the matrix kernels: 'avx512f' | 'avx2' | 'portable'. */
  isa(): string;
  /** Forces an instruction set the CPU supports (tests, benchmarks); returns the one now in use. */
  setIsa(isa: string): string;
  threads(): number;
  /** Resizes the shared pool; 0 restores the default (TESSERA_THREADS or the hardware threads). */
  setThreads(n: number): void;
  /** FMA throughput in GFLOP/s of the active instruction set on `threads` threads (~0.2 s). */
  peakGflops(threads: number): number;
  [kernel: string]: unknown;
}

// src/engine/kernels/ and dist/engine/kernels/ are both three levels below the package root.
const ADDON_PATH = fileURLToPath(new URL('../../../build/Release/tessera_native.node', import.meta.url));

let addon: NativeAddon | null | undefined;
let unavailableReason: string | null = null;

/** The raw addon (loaded once), or null when it is missing or fails to load; see nativeUnavailableReason(). */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (!existsSync(ADDON_PATH)) {
    unavailableReason = `the native addon is not built (run \`npm run build:native\`): ${ADDON_PATH} is missing`;
    return null;
  }
  try {
    const loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    if (typeof loaded.isa !== 'function' || typeof loaded.sgemm !== 'function') {
      unavailableReason = `the native addon at ${ADDON_PATH} is stale (no isa/sgemm): rebuild it`;
      return null;
    }
    addon = loaded;
  } catch (e) {
    unavailableReason = `the native addon failed to load: ${(e as Error).message}`;
  }
  return addon;
}

/** Why loadNativeKernels() returned null (null when the addon loaded). */
export function nativeUnavailableReason(): string | null {
  loadNativeAddon();
  return unavailableReason;
}

type KernelMethod = Exclude<keyof Kernels, 'name' | 'isa' | 'threads' | 'setThreads'>;
type AnyFn = (...args: unknown[]) => unknown;

/** Calls `native` unless an argument is a Float64Array (the addon computes in float32 only). */
function float32OrReference(native: AnyFn, reference: AnyFn): AnyFn {
  return (...args: unknown[]) => {
    for (const arg of args) if (arg instanceof Float64Array) return reference(...args);
    return native(...args);
  };
}

/** Builds the `Kernels` object over a loaded addon. */
export function nativeKernelsFrom(native: NativeAddon): Kernels {
  const kernels = {
    name: 'native' as const,
    get isa(): string {
      return native.isa();
    },
    threads: () => native.threads(),
    setThreads: (n: number) => native.setThreads(n),
  } as Record<string, unknown>;
  for (const key of Object.keys(referenceKernels) as (keyof Kernels)[]) {
    if (key === 'name' || key === 'isa' || key === 'threads' || key === 'setThreads') continue;
    const method: KernelMethod = key;
    const reference = (referenceKernels[method] as AnyFn).bind(referenceKernels);
    const impl = native[method];
    kernels[method] = typeof impl === 'function' ? float32OrReference(impl as AnyFn, reference) : reference;
  }
  return kernels as unknown as Kernels;
}

/** The native kernels, or null when the addon is missing or fails to load (reason: nativeUnavailableReason()). */
export function loadNativeKernels(): Kernels | null {
  const native = loadNativeAddon();
  return native === null ? null : nativeKernelsFrom(native);
}
