/**
 * The generation commands: generate (text-to-video), image, animate (image-to-video), extend, loop, connect, edit.
 * All share one set of sampling options and one code path: build a GenerationRequest, run the pipeline, write the
 * output by its extension, and print the seed (and a JSON summary with --json).
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import type { GenerationRequest } from '../../pipelines/types.js';
import type { VideoClip } from '../../media/types.js';

export interface SamplingFlags {
  model?: string;
  negative?: string;
  size?: string;
  frames?: string;
  seconds?: string;
  fps?: string;
  steps?: string;
  guidance?: string;
  seed?: string;
  sampler?: string;
  eta?: string;
  noiseCorrelation?: string;
  guidanceInterval?: string;
  expand?: boolean | string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  remix?: string;
}

function addSamplingOptions(cmd: Command, opts: { frames: boolean }): Command {
  cmd
    .option('--model <dir>', 'model folder (default: the bundled models/tessera-world)')
    .option('--negative <text>', 'negative prompt: what to steer away from')
    .option('--size <WxH>', 'output size, e.g. 128x128 (default: the model\'s native size)')
    .option('--steps <n>', 'denoising steps')
    .option('--guidance <scale>', 'classifier-free guidance scale')
    .option('--guidance-interval <low,high>', 'guide only at flow times in this range (1 = pure noise), e.g. 0.3,1; other steps take one model pass instead of two (default: the model\'s; every step for the bundled one)')
    .option('--seed <n>', 'random seed (printed when not given)')
    .option('--sampler <name>', 'euler (default), heun or euler-ancestral (stochastic)')
    .option('--eta <x>', 'euler-ancestral: DDIM eta, 0 (= euler) to 1 (ancestral); default 0.5')
    .option('--noise-correlation <x>', 'share of starting noise common to all latent frames, 0 to below 1: steadier objects (default: the model\'s, 0 for the bundled one)')
    .option('--no-expand', 'use the prompt as it is, without expanding it into a dense caption')
    .option('--expand <how>', 'prompt expansion: builtin (default) or llm (OpenAI-compatible endpoint from TESSERA_LLM_* env)')
    .option('--out <file>', 'output file; the format follows the extension (.mp4 .webm .gif .webp .png)')
    .option('--json', 'print a JSON summary (outputs, seed, timings) on stdout')
    .option('--quiet', 'no progress bar')
    .option('--remix <file>', 'reuse the parameters and seed stored beside an earlier output (its .json sidecar)');
  if (opts.frames) {
    cmd
      .option('--frames <n>', 'duration in frames')
      .option('--seconds <s>', 'duration in seconds (frames = seconds x fps)')
      .option('--fps <n>', 'frames per second');
  }
  return cmd;
}

type ModeBuilder = (flags: SamplingFlags & Record<string, unknown>, base: GenerationRequest) => Promise<{ request: GenerationRequest; prefix?: VideoClip; suffix?: VideoClip }>;

export function registerGenerate(program: Command): void {
  const modes: { name: string; summary: string; frames: boolean; args: string; extra?: (c: Command) => void; build: ModeBuilder; defaultOut: string }[] = [
    {
      name: 'generate', summary: 'text to video', frames: true, args: '<prompt>', defaultOut: 'tessera.mp4',
      build: async (_f, base) => ({ request: base }),
    },
    {
      name: 'image', summary: 'text to image (a 1-frame video)', frames: false, args: '<prompt>', defaultOut: 'tessera.png',
      build: async (_f, base) => ({ request: { ...base, frames: 1 } }),
    },
    {
      name: 'animate', summary: 'image to video: the image becomes the first frame', frames: true, args: '<prompt>', defaultOut: 'tessera.mp4',
      extra: (c) => c.requiredOption('--image <file>', 'the image to animate (PNG, JPEG or WebP)').option('--strength <s>', 'how strictly frame 0 keeps the image (0-1)', '1'),
      build: async (f, base) => {
        const { readImage } = await import('../../media/index.js');
        const { imageToVideo } = await import('../../pipelines/modes.js');
        const image = await readImage(String(f.image), { width: base.width, height: base.height });
        return { request: { ...base, conditions: imageToVideo(image, parseUnit('--strength', f.strength)) } };
      },
    },
    {
      name: 'extend', summary: 'extend a video forward (default) or backward in time', frames: true, args: '<prompt>', defaultOut: 'tessera.mp4',
      extra: (c) =>
        c.requiredOption('--video <file>', 'the video to extend')
          .option('--backward', 'add the new frames before the video instead of after it')
          .option('--context <n>', 'frames of the video the model sees', '5'),
      build: async (f, base) => {
        const { readVideo } = await import('../../media/index.js');
        const { extendForward, extendBackward, sliceFrames } = await import('../../pipelines/modes.js');
        const video = await readVideo(String(f.video), { width: base.width, height: base.height, fps: base.fps });
        const context = Math.min(video.frames, parseIntFlag('--context', f.context, 1, 64));
        const total = base.frames + context;
        if (f.backward) {
          return { request: { ...base, frames: total, conditions: extendBackward(video, context) }, suffix: sliceFrames(video, context, video.frames) };
        }
        return { request: { ...base, frames: total, conditions: extendForward(video, context) }, prefix: sliceFrames(video, 0, video.frames - context) };
      },
    },
    {
      name: 'loop', summary: 'a seamless loop: the same frame opens and closes the clip', frames: true, args: '<prompt>', defaultOut: 'tessera.mp4',
      extra: (c) => c.option('--image <file>', 'the frame to loop on (default: a frame generated from the prompt)'),
      build: async (f, base) => {
        const { loopConditions } = await import('../../pipelines/modes.js');
        let frame: VideoClip;
        if (f.image) {
          const { readImage } = await import('../../media/index.js');
          frame = await readImage(String(f.image), { width: base.width, height: base.height });
        } else {
          frame = await generateStill(f, base);
        }
        return { request: { ...base, conditions: loopConditions(frame) } };
      },
    },
    {
      name: 'connect', summary: 'a transition that starts where one video ends and ends where another begins', frames: true, args: '<prompt>', defaultOut: 'tessera.mp4',
      extra: (c) =>
        c.requiredOption('--from <file>', 'the video to start from')
          .requiredOption('--to <file>', 'the video to arrive at')
          .option('--context <n>', 'frames of each video the model sees', '1'),
      build: async (f, base) => {
        const { readVideo } = await import('../../media/index.js');
        const { connectConditions } = await import('../../pipelines/modes.js');
        const opts = { width: base.width, height: base.height, fps: base.fps };
        const a = await readVideo(String(f.from), opts);
        const b = await readVideo(String(f.to), opts);
        const context = Math.min(a.frames, b.frames, parseIntFlag('--context', f.context, 1, 64));
        return { request: { ...base, conditions: connectConditions(a, b, context) } };
      },
    },
    {
      name: 'edit', summary: 'video-to-video: re-imagine a video with a new prompt (SDEdit)', frames: false, args: '<prompt>', defaultOut: 'tessera.mp4',
      extra: (c) =>
        c.requiredOption('--video <file>', 'the video to edit')
          .option('--strength <s>', 'how much to change: 0 keeps the input, 1 ignores it', '0.6')
          .option('--fps <n>', 'frames per second to read the input at'),
      build: async (f, base) => {
        const { readVideo } = await import('../../media/index.js');
        const video = await readVideo(String(f.video), { width: base.width, height: base.height, fps: base.fps, maxFrames: 481 });
        return { request: { ...base, frames: video.frames, edit: { clip: video, strength: parseUnit('--strength', f.strength) } } };
      },
    },
  ];

  for (const mode of modes) {
    const cmd = program.command(`${mode.name} ${mode.args}`).description(mode.summary);
    addSamplingOptions(cmd, { frames: mode.frames });
    mode.extra?.(cmd);
    cmd.action(async (prompt: string, flags: SamplingFlags & Record<string, unknown>) => {
      const { runGeneration } = await import('../generation.js');
      await runGeneration({ command: mode.name, prompt, flags, defaultOut: mode.defaultOut, build: mode.build });
    });
  }
}

/** A single frame from the prompt, used to pin both ends of a loop when no image is given. */
async function generateStill(flags: SamplingFlags, base: GenerationRequest): Promise<VideoClip> {
  const { loadPipeline } = await import('../../pipelines/index.js');
  const pipe = await loadPipeline(flags.model);
  const res = await pipe.generate({ ...base, frames: 1, conditions: [] });
  return res.clip;
}

function parseUnit(flag: string, v: unknown): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 1) throw invalidArgument(flag, `expected a number from 0 to 1, got ${JSON.stringify(v)}`);
  return x;
}

function parseIntFlag(flag: string, v: unknown, lo: number, hi: number): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < lo || x > hi) throw invalidArgument(flag, `expected an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  return x;
}

export type { ModeBuilder };
