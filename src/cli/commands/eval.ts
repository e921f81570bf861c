/**
 * `tessera eval`: generate the evaluation prompts at fixed seeds, grade every clip with the world's judge, measure
 * the Frechet distance to rendered clips of the same scenes, and print a table (or one JSON object with --json).
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { parseFloatInRange, parseIntInRange } from '../options.js';
import type { SamplerName } from '../../pipelines/types.js';

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
  classifier?: string;
  distance: boolean;
  reference: boolean;
  vae: boolean;
  out?: string;
  quiet?: boolean;
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
    .option('--sampler <name>', 'euler (default), heun or euler-ancestral')
    .option('--eta <x>', 'euler-ancestral: DDIM eta, 0 (= euler) to 1 (ancestral); default 0.5')
    .option('--noise-correlation <x>', 'share of starting noise common to all latent frames, 0 to below 1 (default: the model\'s)')
    .option('--classifier <dir>', 'world classifier for the distance (default: models/world-classifier)')
    .option('--no-distance', 'skip the Frechet distance')
    .option('--no-reference', 'skip grading rendered reference clips (the judge\'s ceiling)')
    .option('--no-vae', 'skip measuring the VAE\'s reconstruction of the rendered clips')
    .option('--out <file>', 'also write the JSON report to this file')
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress bar')
    .action(async (flags: EvalFlags) => {
      const { join } = await import('node:path');
      const { loadPipeline, packageRoot } = await import('../../pipelines/index.js');
      const { readPromptFile } = await import('../../eval/prompts.js');
      const { loadClassifier } = await import('../../eval/classifier.js');
      const { defaultClassifier, evaluate, pipelineGenerator, selectSubset, vaeReconstructor } = await import('../../eval/run.js');
      const { formatReport } = await import('../../eval/report.js');
      const { createProgressBar } = await import('../progress-bar.js');

      const seeds = parseSeedList(flags.seeds);
      const root = packageRoot();
      let prompts = await readPromptFile(flags.prompts ?? join(root, 'eval', 'prompts.jsonl'));
      if (flags.limit !== undefined) prompts = selectSubset(prompts, parseIntInRange('--limit', flags.limit, 1, 100_000));
      const overrides: { steps?: number; guidanceScale?: number; sampler?: SamplerName; eta?: number; noiseCorrelation?: number } = {};
      if (flags.steps !== undefined) overrides.steps = parseIntInRange('--steps', flags.steps, 1, 1000);
      if (flags.guidance !== undefined) overrides.guidanceScale = parseFloatInRange('--guidance', flags.guidance, 0, 50);
      if (flags.sampler !== undefined) {
        const { SCHEDULER_NAMES } = await import('../../diffusion/schedulers.js');
        if (!(SCHEDULER_NAMES as readonly string[]).includes(flags.sampler)) throw invalidArgument('--sampler', `expected one of ${SCHEDULER_NAMES.join(', ')}, got "${flags.sampler}"`);
        overrides.sampler = flags.sampler as SamplerName;
      }
      if (flags.eta !== undefined) overrides.eta = parseFloatInRange('--eta', flags.eta, 0, 1);
      if (flags.noiseCorrelation !== undefined) {
        overrides.noiseCorrelation = parseFloatInRange('--noise-correlation', flags.noiseCorrelation, 0, 1);
        if (overrides.noiseCorrelation === 1) throw invalidArgument('--noise-correlation', 'expected a number below 1, got 1');
      }
      const classifier = !flags.distance ? null : flags.classifier ? await loadClassifier(flags.classifier) : await defaultClassifier(root);
      const pipeline = await loadPipeline(flags.model);

      const bar = createProgressBar({ quiet: flags.quiet });
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let report;
      try {
        report = await evaluate(prompts, pipelineGenerator(pipeline, overrides), {
          seeds, classifier, judgeReference: flags.reference, reconstruct: flags.vae ? vaeReconstructor(pipeline.parts.vae) : null, onProgress: bar.onProgress, signal: abort.signal,
        });
      } finally {
        bar.finish();
        process.off('SIGINT', onSigint);
      }
      const json = JSON.stringify({ model: flags.model ?? 'bundled', ...report });
      if (flags.out) {
        const { writeFileAtomically } = await import('../../formats/index.js');
        await writeFileAtomically(flags.out, `${json}\n`);
      }
      process.stdout.write(flags.json ? `${json}\n` : formatReport(report));
    });
}
