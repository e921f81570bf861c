/**
 * One job, start to finish, as a worker runs it: build the generation request from the stored parameters
 * (image-to-video, edit and extension become frame conditions), sample, and write every downloadable variant.
 * Runs in a worker process, never on the HTTP event loop.
 */
import { readFile } from 'node:fs/promises';
import { TesseraError } from '../errors.js';
import { decodeImage, writeSpritesheet, writeThumbnail, writeVideo, type VideoClip } from '../media/index.js';
import { concatFrames, extendForward, imageToVideo, sliceFrames } from '../pipelines/modes.js';
import type { FrameCondition, GenerationRequest } from '../pipelines/types.js';
import type { ProgressEvent } from '../progress.js';
import { OutputFiles, VARIANTS } from './files.js';
import type { JobParams, VideoGenerator } from './types.js';

/** Frames of the source video that open an extension, so the new segment continues its motion. */
export const EXTENSION_CONTEXT_FRAMES = 4;
/** How far an edit may move away from the source (SDEdit strength). */
export const EDIT_STRENGTH = 0.65;
/** Share of the progress bar that sampling fills; encoding the variants fills the rest. */
const SAMPLING_SHARE = 95;

export interface RenderOptions {
  /** Whole percent 0..99, called only when the number changes. */
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
}

export interface RenderResult {
  /** Seconds of the finished video (for an extension, the stitched total), as OpenAI writes them. */
  seconds: string;
  frames: number;
}

export function formatSeconds(frames: number, fps: number): string {
  return String(Math.round((frames / fps) * 100) / 100);
}

/** Overall fraction of one progress event: the pipeline's own when it gives one, else the stage's. */
function fractionOf(e: ProgressEvent): number {
  const f = e.fraction ?? (e.total > 0 ? e.done / e.total : 0);
  return Math.max(0, Math.min(1, f));
}

export async function renderJob(id: string, params: JobParams, generator: VideoGenerator, files: OutputFiles, opts: RenderOptions = {}): Promise<RenderResult> {
  const { signal } = opts;
  let lastPercent = -1;
  const report = (percent: number) => {
    const p = Math.floor(percent);
    if (p > lastPercent) {
      lastPercent = p;
      opts.onProgress?.(p);
    }
  };
  await files.ensureDir(id);

  let conditions: FrameCondition[] | undefined;
  let edit: GenerationRequest['edit'];
  let source: VideoClip | undefined;
  if (params.inputReference !== undefined) {
    const bytes = await readFile(files.path(id, params.inputReference));
    conditions = imageToVideo(await decodeImage(bytes, { width: params.width, height: params.height, fit: 'cover', fps: params.fps }, 'input_reference'));
  }
  if (params.sourceVideoId !== undefined && (params.kind === 'edit' || params.kind === 'extend')) {
    source = await files.readClip(params.sourceVideoId);
    if (params.kind === 'extend') {
      conditions = extendForward(source, Math.min(EXTENSION_CONTEXT_FRAMES, source.frames));
    } else {
      edit = { clip: source, strength: EDIT_STRENGTH };
    }
  }
  // An extension samples the context frames again at its head; they are cut off before stitching.
  const context = params.kind === 'extend' && source ? Math.min(EXTENSION_CONTEXT_FRAMES, source.frames) : 0;
  const request: GenerationRequest = {
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
    width: params.width,
    height: params.height,
    frames: params.frames + context,
    fps: params.fps,
    steps: params.steps ?? generator.defaultSteps,
    guidanceScale: params.guidanceScale ?? generator.defaultGuidance,
    seed: params.seed,
    sampler: 'euler',
    expandPrompt: true,
    conditions,
    edit,
  };
  report(0);
  const result = await generator.generate(request, { signal, onProgress: (e) => report(fractionOf(e) * SAMPLING_SHARE) });
  if (signal?.aborted) throw new TesseraError('aborted', 'the job was cancelled');

  let clip = result.clip;
  if (source && params.kind === 'extend') clip = concatFrames([source, sliceFrames(clip, context, clip.frames)]);

  // The raw frames first (edits and extensions of this video read them), then the variants users download.
  await files.writeClip(id, clip);
  report(SAMPLING_SHARE + 1);
  await writeThumbnail(files.path(id, VARIANTS.thumbnail.file), clip);
  await writeSpritesheet(files.path(id, VARIANTS.spritesheet.file), clip);
  report(SAMPLING_SHARE + 2);
  await writeVideo(files.path(id, VARIANTS.video.file), clip, { signal });
  return { seconds: formatSeconds(clip.frames, clip.fps), frames: clip.frames };
}
