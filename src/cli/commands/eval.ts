/**
 * `tessera eval`: generate the evaluation prompts at fixed seeds, grade every clip with the world's judge, measure
 * the Frechet distance to rendered clips of the same scenes, and print a table (or one JSON object with --json).
 */
import type { Command } from 'commander';
import { TesseraError, invalidArgument } from '../../errors.js';
import { parseFloatInRange, parseGuidanceInterval, parseIntInRange } from '../options.js';
import type { SamplerName } from '../../pipelines/types.js';
import type { EvalPrompt } from '../../eval/prompts.js';
import type { VideoClip } from '../../media/types.js';

interface EvalFlags {
  model?: string;
  prompts?: string;
  json?: boolean;
  limit?: string;
  seeds: string;
  steps?: string;
  guidance?: string;
  sampler?: string;
  eta?: string;
  noiseCorrelation?: string;
  guidanceInterval?: string;
  classifier?: string;
  distance: boolean;
  reference: boolean;
  vae: boolean;
  vaeOnly?: boolean;
  out?: string;
  saveClips?: string;
  quiet?: boolean;
}

/** The file a generated clip is saved to with --save-clips: the prompt's id (made safe for a file name) and seed. */
export function savedClipName(id: string, seed: number): string {
  return `${encodeURIComponent(id)}-seed${seed}.mp4`;
}

/** "0,1,2" -> [0, 1, 2]: distinct non-negative integers. */
export function parseSeedList(value: string): number[] {
  const seeds = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const parsed = seeds.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (parsed.length === 0 || parsed.some((n) => !Number.isSafeInteger(n)) || new Set(parsed).size !== parsed.length) {
    throw invalidArgument('--seeds', `expected distinct non-negative integers separated by commas (e.g. 0,1), got "${value}"`);
  }
  return parsed;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('grade a model on the evaluation prompts: per-attribute accuracy, permanence, physics, Frechet distance')
    .option('--model <dir>', 'model folder (default: the bundled models/tessera-world)')
    .option('--prompts <file>', 'evaluation prompts, JSONL (default: eval/prompts.jsonl of the package)')
    .option('--limit <n>', 'evaluate only n prompts, spread over the file (held-out ones in proportion)')
    .option('--seeds <list>', 'seeds every prompt is generated at', '0,1')
    .option('--steps <n>', 'denoising steps (default: the model\'s)')
    .option('--guidance <scale>', 'classifier-free guidance scale (default: the model\'s)')
    .option('--guidance-interval <low,high>', 'guide only at flow times in this range (1 = pure noise), e.g. 0.3,1 (default: the model\'s; every step for the bundled one)')
    .option('--sampler <name>', 'euler (default), heun or euler-ancestral')
    .option('--eta <x>', 'euler-ancestral: DDIM eta, 0 (= euler) to 1 (ancestral); default 0.5')
    .option('--noise-correlation <x>', 'share of starting noise common to all latent frames, 0 to below 1 (default: the model\'s)')
    .option('--classifier <dir>', 'world classifier for the distance (default: models/world-classifier)')
    .option('--no-distance', 'skip the Frechet distance')
    .option('--no-reference', 'skip grading rendered reference clips (the judge\'s ceiling)')
    .option('--no-vae', 'skip measuring the VAE\'s reconstruction of the rendered clips')
    .option('--vae-only', 'measure only the VAE (no diffusion model): PSNR and the judge on reconstructions of the rendered clips at the first seed; --model may then be a VAE folder')
    .option('--out <file>', 'also write the JSON report to this file')
    .option('--save-clips <dir>', 'also save every generated clip there as MP4, named by prompt id and seed (p007-seed0.mp4)')
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress bar')
    .action(async (flags: EvalFlags) => {
      const { join } = await import('node:path');
      const { loadPipeline, packageRoot } = await import('../../pipelines/index.js');
      const { readPromptFile } = await import('../../eval/prompts.js');
      const { loadClassifier } = await import('../../eval/classifier.js');
      const { defaultClassifier, evaluate, pipelineGenerator, selectSubset, vaeReconstructor } = await import('../../eval/run.js');
      const { formatReport } = await import('../../eval/report.js');
      const { withProgressBar } = await import('../progress-bar.js');

      const seeds = parseSeedList(flags.seeds);
      const root = packageRoot();
      let prompts = await readPromptFile(flags.prompts ?? join(root, 'eval', 'prompts.jsonl'));
      if (flags.limit !== undefined) prompts = selectSubset(prompts, parseIntInRange('--limit', flags.limit, 1, 100_000));
      const overrides: { steps?: number; guidanceScale?: number; guidanceInterval?: [number, number]; sampler?: SamplerName; eta?: number; noiseCorrelation?: number } = {};
      if (flags.steps !== undefined) overrides.steps = parseIntInRange('--steps', flags.steps, 1, 1000);
      if (flags.guidance !== undefined) overrides.guidanceScale = parseFloatInRange('--guidance', flags.guidance, 0, 50);
      if (flags.sampler !== undefined) {
        const { SCHEDULER_NAMES } = await import('../../diffusion/schedulers.js');
        if (!(SCHEDULER_NAMES as readonly string[]).includes(flags.sampler)) throw invalidArgument('--sampler', `expected one of ${SCHEDULER_NAMES.join(', ')}, got "${flags.sampler}"`);
        overrides.sampler = flags.sampler as SamplerName;
      }
      if (flags.eta !== undefined) overrides.eta = parseFloatInRange('--eta', flags.eta, 0, 1);
      if (flags.guidanceInterval !== undefined) overrides.guidanceInterval = parseGuidanceInterval(flags.guidanceInterval);
      if (flags.noiseCorrelation !== undefined) {
        const { isNoiseCorrelation, NOISE_CORRELATION_RANGE } = await import('../../diffusion/noise.js');
        const rho = flags.noiseCorrelation.trim() === '' ? NaN : Number(flags.noiseCorrelation);
        if (!isNoiseCorrelation(rho)) throw invalidArgument('--noise-correlation', `expected ${NOISE_CORRELATION_RANGE}, got "${flags.noiseCorrelation}"`);
        overrides.noiseCorrelation = rho;
      }
      if (flags.vaeOnly) {
        await evaluateVaeOnly(flags, prompts, seeds[0]!);
        return;
      }
      const saveClip = flags.saveClips === undefined ? undefined : await clipSaver(flags.saveClips);
      const classifier = !flags.distance ? null : flags.classifier ? await loadClassifier(flags.classifier) : await defaultClassifier(root);
      const pipeline = await loadPipeline(flags.model);

      const report = await withProgressBar(!!flags.quiet, (onProgress, signal) =>
        evaluate(prompts, pipelineGenerator(pipeline, overrides), {
          seeds, classifier, judgeReference: flags.reference, reconstruct: flags.vae ? vaeReconstructor(pipeline.parts.vae) : null,
          onSample: saveClip, onProgress, signal,
        }));
      await printReport(flags, report, formatReport);
    });
}

/**
 * --save-clips: makes the folder up front (so a bad path fails before any generation) and returns the callback that
 * writes each graded clip into it, atomically.
 */
async function clipSaver(dir: string): Promise<(s: { prompt: EvalPrompt; seed: number; clip: VideoClip }) => Promise<void>> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { writeVideo } = await import('../../media/index.js');
  if (dir.trim() === '') throw invalidArgument('--save-clips', 'expected a folder path, got ""');
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw invalidArgument('--save-clips', `cannot make the folder ${dir}: ${(e as Error).message}`);
  }
  return async ({ prompt, seed, clip }) => {
    await writeVideo(join(dir, savedClipName(prompt.id, seed)), clip);
  };
}

/** The report as one JSON object (--json, --out) or the people-readable table. */
async function printReport<R extends object>(flags: EvalFlags, report: R, format: (r: R) => string): Promise<void> {
  const json = JSON.stringify({ model: flags.model ?? 'bundled', ...report });
  if (flags.out) {
    const { writeFileAtomically } = await import('../../formats/index.js');
    await writeFileAtomically(flags.out, `${json}\n`);
  }
  process.stdout.write(flags.json ? `${json}\n` : format(report));
}

/**
 * `--vae-only`: a model folder's VAE or a VAE folder of its own, measured on the prompts' rendered scenes at the
 * model's native size (128x128, 17 frames for a bare VAE folder: the size the bundled model makes).
 */
async function evaluateVaeOnly(flags: EvalFlags, prompts: EvalPrompt[], seed: number): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadVae } = await import('../../models/index.js');
  const { defaultModelDir, readModelDefaults } = await import('../../pipelines/index.js');
  const { evaluateVae, vaeReconstructor } = await import('../../eval/run.js');
  const { formatVaeReport } = await import('../../eval/report.js');
  const { withProgressBar } = await import('../progress-bar.js');

  if (!flags.vae) throw invalidArgument('--vae-only', 'measures the VAE, so it cannot be combined with --no-vae');
  for (const flag of ['steps', 'guidance', 'guidanceInterval', 'sampler', 'eta', 'noiseCorrelation', 'classifier', 'saveClips'] as const) {
    if (flags[flag] !== undefined) throw invalidArgument('--vae-only', `generates nothing, so it takes no --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  const dir = flags.model ?? defaultModelDir();
  let vae;
  let size = { width: 128, height: 128, frames: 17, fps: 8 };
  if (existsSync(join(dir, 'model_index.json'))) {
    // only the VAE: the DiT and text encoder are not loaded
    vae = await loadVae(dir);
    const { width, height, frames, fps } = await readModelDefaults(dir, vae);
    size = { width, height, frames, fps };
  } else if (existsSync(join(dir, 'config.json'))) {
    vae = await loadVae(dir);
  } else {
    throw new TesseraError('not_found', `no model or VAE at ${dir} (expected model_index.json or config.json)`, { param: 'model' });
  }
  const report = await withProgressBar(!!flags.quiet, (onProgress, signal) => evaluateVae(prompts, vaeReconstructor(vae), { size, seed, onProgress, signal }));
  await printReport(flags, report, formatVaeReport);
}
