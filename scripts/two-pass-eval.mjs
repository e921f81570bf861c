#!/usr/bin/env node
// Two-pass sampling, measured: sample each eval prompt, then sample it again with the first KEEP frames of the
// first pass given (as `tessera extend` does), and grade the second pass like `tessera eval`. KEEP 0 grades the
// first pass alone, which reproduces `tessera eval --limit LIMIT --seeds SEEDS --no-vae --no-reference`. Usage,
// after npm run build:
//   node scripts/two-pass-eval.mjs [MODEL_DIR] [KEEP] [OUT.json] [LIMIT] [SEEDS]
import { readFile, writeFile } from 'node:fs/promises';
import { loadPipeline } from '../dist/index.js';
import { extendForward, sliceFrames } from '../dist/pipelines/modes.js';
import { evaluate, selectSubset, defaultClassifier } from '../dist/eval/run.js';
import { parsePromptFile } from '../dist/eval/prompts.js';

const [model = 'models/tessera-world', keep = '5', out = 'two-pass.json', limit = '24', seeds = '0'] = process.argv.slice(2);
const pipe = await loadPipeline(model);
const d = pipe.capabilities.defaults;
const K = Number(keep);
const request = (prompt, seed) => ({
  prompt: prompt.prompt, width: d.width, height: d.height, frames: d.frames, fps: d.fps, steps: d.steps,
  guidanceScale: d.guidanceScale, sampler: 'euler', expandPrompt: true, seed,
});
const twoPass = async (prompt, seed, { signal }) => {
  const first = (await pipe.generate(request(prompt, seed), { signal })).clip;
  if (K <= 0) return first;
  const again = { ...request(prompt, seed + 1000), conditions: extendForward(sliceFrames(first, 0, K), K) };
  return (await pipe.generate(again, { signal })).clip;
};
const prompts = selectSubset(parsePromptFile(await readFile('eval/prompts.jsonl', 'utf8')), Number(limit));
const report = await evaluate(prompts, twoPass, { seeds: seeds.split(',').map(Number), classifier: await defaultClassifier('.'), judgeReference: false });
await writeFile(out, JSON.stringify(report, null, 1));
const s = report.scores;
console.log(`${out}: accuracy ${(100 * s.all.accuracy).toFixed(1)}% (held-out ${(100 * s.heldOut.accuracy).toFixed(1)}%), permanence ${(100 * s.all.permanence).toFixed(1)}%`);
