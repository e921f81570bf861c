/**
 * `tessera world ...`: the simulated world from the command line.
 *   world render --seed N [--spec scene.json | --prompt "..."] --out clip.mp4|gif|png   (prints the caption)
 *   world caption --seed N                                     every caption level of a random scene
 *   world expand "prompt" [--json]                             the spec and dense caption a prompt expands to
 *   world judge video.mp4 (--prompt "..." | --spec scene.json) [--json]
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TesseraError, invalidArgument } from '../../errors.js';
import { CAPTION_LEVELS } from '../../world/caption.js';

function integer(value: string | undefined, name: string, fallback: number, lo = 0, hi = 2 ** 32 - 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < lo || n > hi) throw invalidArgument(name, `expected an integer in [${lo}, ${hi}], got '${value}'`);
  return n;
}

function size(value: string | undefined): { width: number; height: number } {
  if (value === undefined) return { width: 128, height: 128 };
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m) throw invalidArgument('--size', `expected WxH such as 128x128, got '${value}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function readSpecFile(path: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new TesseraError('not_found', `${path}: cannot read the scene spec`); }
  try { return JSON.parse(text); } catch { throw new TesseraError('corrupt_file', `${path}: not valid JSON`); }
}

export function registerWorld(program: Command): void {
  const world = program.command('world').description('the simulated world: render scenes, caption them, expand prompts, judge videos');

  world
    .command('render')
    .description('render a random (or given) scene to a video or image and print its caption')
    .option('--seed <n>', 'scene seed', '0')
    .option('--spec <file>', 'render this scene spec (JSON) instead of a random one')
    .option('--prompt <text>', 'render the scene this prompt expands to')
    .option('--size <WxH>', 'frame size, multiples of 16 from 32 to 256', '128x128')
    .option('--frames <n>', 'frame count (1 for an image)', '16')
    .option('--fps <n>', 'frames per second', '8')
    .option('--level <level>', `caption level: ${CAPTION_LEVELS.join(', ')}`, 'dense')
    .option('--out <file>', 'output file (.mp4 .webm .gif .webp .png)', 'world.mp4')
    .option('--json', 'print the spec and caption as JSON')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const w = await import('../../world/index.js');
      const { writeVideo } = await import('../../media/index.js');
      const seed = integer(flags.seed as string, '--seed', 0);
      const { width, height } = size(flags.size as string);
      const frames = integer(flags.frames as string, '--frames', 16, 1, 256);
      const fps = integer(flags.fps as string, '--fps', 8, 1, 60);
      const level = flags.level as string;
      if (!CAPTION_LEVELS.includes(level as never)) throw invalidArgument('--level', `expected one of ${CAPTION_LEVELS.join(', ')}, got '${level}'`);
      const spec = flags.spec
        ? w.validateSpec(readSpecFile(flags.spec as string))
        : flags.prompt
          ? w.expandPrompt(flags.prompt as string, { seed, width, height, frames, fps }).spec
          : w.validateSpec({ ...w.randomSpec(seed, { width, height, frames, fps }) });
      const caption = w.captionSpec(spec, level as 'dense', seed);
      const clip = w.renderScene(spec);
      const written = await writeVideo(flags.out as string, clip);
      if (flags.json) process.stdout.write(`${JSON.stringify({ outputs: written, caption, spec })}\n`);
      else process.stdout.write(`${caption}\n`);
    });

  world
    .command('caption')
    .description('print the short, medium, dense and fact captions of a random scene')
    .option('--seed <n>', 'scene seed', '0')
    .action(async (flags: { seed?: string }) => {
      const w = await import('../../world/index.js');
      const seed = integer(flags.seed, '--seed', 0);
      const spec = w.randomSpec(seed);
      for (const level of CAPTION_LEVELS) process.stdout.write(`${level}: ${w.captionSpec(spec, level, seed)}\n`);
    });

  world
    .command('expand')
    .description('expand a prompt into a scene spec and the dense caption the model was trained on')
    .argument('<prompt>')
    .option('--seed <n>', 'seed for what the prompt leaves open', '0')
    .option('--llm', 'rewrite the prompt with an LLM first (TESSERA_LLM_BASE_URL, TESSERA_LLM_MODEL, TESSERA_LLM_API_KEY)')
    .option('--json', 'print the whole expansion as JSON')
    .action(async (prompt: string, flags: { seed?: string; llm?: boolean; json?: boolean }) => {
      const w = await import('../../world/index.js');
      const seed = integer(flags.seed, '--seed', 0);
      const e = flags.llm ? await w.expandPromptWithLlm(prompt, { seed }) : w.expandPrompt(prompt, { seed });
      if (flags.json) process.stdout.write(`${JSON.stringify({ caption: e.caption, spec: e.spec, unknownWords: e.unknownWords, source: e.source, rewritten: e.rewritten })}\n`);
      else {
        process.stdout.write(`${e.caption}\n`);
        if (e.unknownWords.length) process.stderr.write(`not understood: ${e.unknownWords.join(', ')}\n`);
      }
    });

  world
    .command('judge')
    .description('grade a video against a prompt or a scene spec, from its pixels')
    .argument('<video>')
    .option('--prompt <text>', 'what the video was asked to show')
    .option('--spec <file>', 'the scene spec it was asked to show (JSON)')
    .option('--json', 'print the scores and analysis as JSON')
    .action(async (video: string, flags: { prompt?: string; spec?: string; json?: boolean }) => {
      if (!flags.prompt && !flags.spec) throw invalidArgument('--prompt', 'give --prompt "..." or --spec scene.json');
      const w = await import('../../world/index.js');
      const { readVideo } = await import('../../media/index.js');
      const clip = await readVideo(video);
      const scores = flags.spec ? w.judgeClip(clip, w.validateSpec(readSpecFile(flags.spec))) : w.judgeAgainstPrompt(clip, flags.prompt!);
      const a = scores.analysis;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({
          accuracy: scores.accuracy, attributes: scores.attributes, permanence: scores.permanence, physics: scores.physics,
          detected: {
            background: a.background, lighting: a.lighting, camera: a.camera,
            objects: a.tracks.map((t) => ({ kind: t.kind, colour: t.colour, motion: t.motion, frames: t.frames.length })),
          },
        }, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v))}\n`);
        return;
      }
      const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(0)}%`);
      process.stdout.write(`accuracy ${pct(scores.accuracy)}  kind ${pct(scores.attributes.kind)}  colour ${pct(scores.attributes.colour)}  count ${pct(scores.attributes.count)}  motion ${pct(scores.attributes.motion)}  background ${pct(scores.attributes.background)}\n`);
      process.stdout.write(`permanence ${pct(scores.permanence)}  physics ${pct(scores.physics)}\n`);
      const bg = a.background.kind === 'solid' ? `solid ${a.background.colour}` : a.background.kind;
      process.stdout.write(`seen: ${bg} background, ${a.lighting} light, camera ${a.camera}; ${a.tracks.map((t) => `${t.colour ? `${t.colour} ` : ''}${t.kind} (${t.motion})`).join(', ') || 'no objects'}\n`);
    });
}
