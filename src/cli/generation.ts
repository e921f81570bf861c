/**
 * The shared body of every generation command: flags -> request -> pipeline -> files on disk.
 * Writes the output atomically (format from the extension) and a `<out>.json` sidecar holding the request
 * and seed, so `--remix` can replay a generation with a new prompt.
 */
import { readFile } from 'node:fs/promises';
import { invalidArgument, TesseraError } from '../errors.js';
import type { GenerationRequest, GenerationResult } from '../pipelines/types.js';
import type { VideoClip } from '../media/types.js';
import type { SamplingFlags, ModeBuilder } from './commands/generate.js';

export interface RunGenerationArgs {
  command: string;
  prompt: string;
  flags: SamplingFlags & Record<string, unknown>;
  defaultOut: string;
  build: ModeBuilder;
}

/** What the sidecar stores: every scalar field of the request (clips are not stored). */
export type StoredRequest = Omit<GenerationRequest, 'conditions' | 'edit'> & { command: string };

function parseNumberFlag(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw invalidArgument(flag, `expected ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  }
  return x;
}

async function readSidecar(path: string): Promise<Partial<StoredRequest>> {
  const file = path.endsWith('.json') ? path : `${path}.json`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new TesseraError('not_found', `--remix: no generation record at ${file}`, { param: 'remix' });
  }
  try {
    return (JSON.parse(text) as { request: Partial<StoredRequest> }).request;
  } catch {
    throw new TesseraError('corrupt_file', `--remix: ${file} is not a Tessera generation record`, { param: 'remix' });
  }
}

export async function runGeneration(args: RunGenerationArgs): Promise<void> {
  const { flags } = args;
  const { parseGuidanceInterval, parseSize, parseSeed } = await import('./options.js');
  const { formatFromPath } = await import('../media/formats.js');
  const out = flags.out ?? args.defaultOut;
  const format = formatFromPath(out, '--out');

  const { loadPipeline } = await import('../pipelines/index.js');
  const pipe = await loadPipeline(flags.model);
  const d = pipe.capabilities.defaults;
  const stored = flags.remix ? await readSidecar(flags.remix) : {};

  const size = flags.size ? parseSize(flags.size, { name: '--size' }) : { width: stored.width ?? d.width, height: stored.height ?? d.height };
  const fps = parseNumberFlag('--fps', flags.fps, true) ?? stored.fps ?? d.fps;
  let frames = parseNumberFlag('--frames', flags.frames, true) ?? stored.frames ?? d.frames;
  const seconds = parseNumberFlag('--seconds', flags.seconds, false);
  if (seconds !== undefined) {
    if (seconds <= 0) throw invalidArgument('--seconds', `expected a positive duration, got ${seconds}`);
    frames = Math.max(1, Math.round(seconds * fps));
  }
  const expand = flags.expand === false ? false : flags.expand === 'llm' ? 'llm' : flags.expand === undefined || flags.expand === true || flags.expand === 'builtin' ? (stored.expandPrompt ?? true) : undefined;
  if (expand === undefined) throw invalidArgument('--expand', `expected builtin or llm, got ${JSON.stringify(flags.expand)}`);
  const base: GenerationRequest = {
    prompt: args.prompt,
    negativePrompt: flags.negative ?? stored.negativePrompt,
    width: size.width,
    height: size.height,
    frames,
    fps,
    steps: parseNumberFlag('--steps', flags.steps, true) ?? stored.steps ?? d.steps,
    guidanceScale: parseNumberFlag('--guidance', flags.guidance, false) ?? stored.guidanceScale ?? d.guidanceScale,
    seed: flags.seed !== undefined ? parseSeed(flags.seed, '--seed') : (stored.seed ?? parseSeed(undefined, '--seed')),
    sampler: (flags.sampler ?? stored.sampler ?? 'euler') as GenerationRequest['sampler'],
    eta: parseNumberFlag('--eta', flags.eta, false) ?? stored.eta,
    noiseCorrelation: parseNumberFlag('--noise-correlation', flags.noiseCorrelation, false) ?? stored.noiseCorrelation,
    guidanceInterval: flags.guidanceInterval !== undefined ? parseGuidanceInterval(flags.guidanceInterval) : stored.guidanceInterval,
    expandPrompt: expand,
  };
  const { request, prefix, suffix } = await args.build(flags, base);
  const { planSampling } = await import('../pipelines/request.js');
  planSampling(request, pipe.capabilities); // reject bad input before any output
  if (!flags.json) process.stderr.write(`tessera: seed ${request.seed}\n`);

  const { withProgressBar } = await import('./progress-bar.js');
  const t0 = performance.now();
  const result: GenerationResult = await withProgressBar(!!flags.quiet || !!flags.json, (onProgress, signal) => pipe.generate(request, { onProgress, signal }));

  const { concatFrames } = await import('../pipelines/modes.js');
  let clip: VideoClip = result.clip;
  if (prefix && prefix.frames > 0) clip = concatFrames([prefix, clip]);
  if (suffix && suffix.frames > 0) clip = concatFrames([clip, suffix]);

  const { writeVideo } = await import('../media/index.js');
  const { writeFileAtomically } = await import('../atomic.js');
  const tWrite = performance.now();
  const outputs = await writeVideo(out, clip);
  const record: { request: StoredRequest; caption: string; timings: Record<string, number> } = {
    request: { ...stripClips(request), command: args.command },
    caption: result.caption,
    timings: { ...result.timings, write_ms: performance.now() - tWrite, total_ms: performance.now() - t0 },
  };
  await writeFileAtomically(`${out}.json`, JSON.stringify(record, null, 2) + '\n');

  const paths = Array.isArray(outputs) ? outputs : [out];
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({ command: args.command, outputs: paths, format, seed: request.seed, caption: result.caption, width: clip.width, height: clip.height, frames: clip.frames, fps: clip.fps, timings: record.timings }) + '\n',
    );
  } else {
    process.stderr.write(`tessera: wrote ${paths.join(', ')} (${clip.frames} frame${clip.frames === 1 ? '' : 's'}, ${clip.width}x${clip.height}) in ${(record.timings.total_ms! / 1000).toFixed(1)} s\n`);
  }
}

function stripClips(req: GenerationRequest): Omit<GenerationRequest, 'conditions' | 'edit'> {
  const { conditions: _c, edit: _e, ...rest } = req;
  return rest;
}
