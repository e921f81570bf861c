import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/random.js';
import { WorldClassifier, defaultClassifierConfig } from '../../src/eval/classifier.js';
import { readPromptFile } from '../../src/eval/prompts.js';
import { formatReport, formatVaeReport } from '../../src/eval/report.js';
import { evaluate, flattenReport, groundTruthGenerator, quickEval, selectSubset, summarise, type ClipGenerator } from '../../src/eval/run.js';
import { parseSeedList } from '../../src/cli/commands/eval.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiT } from '../../src/models/dit/index.js';
import { saveModel } from '../../src/models/index.js';
import { TextEncoder, buildWordLevelTokenizer } from '../../src/models/text/index.js';
import { CausalVideoVAE } from '../../src/models/vae/index.js';
import { loadPipeline } from '../../src/pipelines/index.js';
import { evaluateVae, pipelineGenerator, vaeReconstructor } from '../../src/eval/run.js';

/** A tiny untrained classifier: the distance math does not need a trained one to be 0 on identical clips. */
function tinyClassifier(): WorldClassifier {
  return new WorldClassifier({ ...defaultClassifierConfig(), channels: [4, 8, 8], featureDim: 8 }, new Rng(1)).eval();
}

/** A generator that ignores the prompt: one flat grey clip. */
const greyGenerator: ClipGenerator = async (p) => {
  const { width, height, frames, fps } = p.spec;
  return { width, height, frames, fps, data: new Uint8Array(width * height * frames * 3).fill(128) };
};

test('ground-truth clips as "generated" clips: judge scores match the ceiling and the distance is 0', async () => {
  const all = await readPromptFile('eval/prompts.jsonl');
  // single-object prompts, two of them held out
  const prompts = [...all.filter((p) => p.objects === 1 && !p.held_out).slice(0, 4), ...all.filter((p) => p.objects === 1 && p.held_out).slice(0, 2)];
  const events: number[] = [];
  const report = await evaluate(prompts, groundTruthGenerator, { seeds: [0, 1], classifier: tinyClassifier(), onProgress: (e) => events.push(e.done) });
  assert.equal(report.samples, 12);
  assert.deepEqual(events, Array.from({ length: 12 }, (_, i) => i + 1));
  assert.equal(report.scores.seen!.samples, 8);
  assert.equal(report.scores.heldOut!.samples, 4);
  assert.ok(report.scores.all.accuracy! >= 0.85, `judge accuracy on rendered clips ${report.scores.all.accuracy}`);
  assert.ok(report.scores.all.attributes.background! >= 0.99);
  assert.equal(report.reference!.all.samples, 6, 'the ceiling is graded once per prompt');
  assert.ok(report.distance!.all!.distance < 1e-6, `distance ${report.distance!.all!.distance}`);
  assert.equal(report.distance!.heldOut!.clips, 4);
  assert.ok(report.results.every((r) => r.classifier !== undefined && r.generateSeconds >= 0));
  // the objects the judge tracked: their number is what count checks, and the table counts every clip once
  for (const r of report.results) assert.equal(r.scores.attributes.count, r.found.length === r.objects ? 1 : 0, r.id);
  assert.deepEqual(Object.keys(report.objectsFound), ['1']);
  assert.equal(Object.values(report.objectsFound['1']!).reduce((a, b) => a + b, 0), 12);
  assert.ok(report.objectsFound['1']!['1']! >= 9, `one object found in ${report.objectsFound['1']!['1']} of 12 rendered clips`);
  const named = report.results.filter((r) => r.found.length === 1).map((r) => r.found[0]!);
  assert.ok(named.every((f) => typeof f.kind === 'string' && typeof f.motion === 'string'));

  // a generator that draws nothing scores far lower and sits far from the rendered clips
  const grey = await evaluate(prompts, greyGenerator, { seeds: [0, 1], classifier: tinyClassifier(), judgeReference: false });
  assert.ok(grey.scores.all.accuracy! < report.scores.all.accuracy! - 0.3, `grey ${grey.scores.all.accuracy}`);
  assert.ok(grey.distance!.all!.distance > 100 * (report.distance!.all!.distance + 1e-6));
  assert.equal(grey.reference, null);
  assert.deepEqual(grey.objectsFound, { 1: { 0: 12 } }, 'a flat grey clip has no objects to find');

  const text = formatReport(report);
  for (const word of ['held-out', 'judge ceiling', 'Frechet distance', 'kind', 'background', 'Objects the judge found']) assert.ok(text.includes(word), word);
  assert.match(formatReport(grey), /1 object asked: 0 in 12/);
  const json = JSON.parse(JSON.stringify(report));
  assert.equal(json.results.length, 12, 'the report survives JSON (no NaN)');
});

test('summaries: per-attribute means skip clips with nothing to check; accuracy pools checks', () => {
  const s = summarise([
    { attributes: { kind: 1, colour: null, count: 1, motion: 0, background: 1 }, correct: 3, checks: 4, permanence: 1, physics: 1 },
    { attributes: { kind: 0.5, colour: 1, count: 0, motion: 1, background: 0 }, correct: 4, checks: 8, permanence: 0.5, physics: 0 },
  ]);
  assert.equal(s.attributes.colour, 1);
  assert.equal(s.attributes.kind, 0.75);
  assert.equal(s.accuracy, 7 / 12);
  assert.equal(s.permanence, 0.75);
});

test('quickEval for training: a spread subset with held-out prompts and flat metrics', async () => {
  const prompts = await readPromptFile('eval/prompts.jsonl');
  const subset = selectSubset(prompts, 16);
  assert.equal(subset.length, 16);
  assert.ok(subset.some((p) => p.held_out) && subset.some((p) => !p.held_out));
  assert.ok(new Set(subset.map((p) => p.spec.background.kind)).size >= 6, 'spread over the file');
  const { report, metrics } = await quickEval(greyGenerator, { prompts, limit: 3 });
  assert.equal(report.samples, 3);
  assert.deepEqual(report.seeds, [0]);
  assert.ok('eval/accuracy' in metrics && 'eval/kind' in metrics && 'eval/heldout_accuracy' in metrics);
  assert.ok(!('eval/distance' in metrics), 'no classifier, no distance');
  assert.deepEqual(flattenReport(report, 'x/')['x/accuracy'], metrics['eval/accuracy']);
});

test('--seeds parsing', () => {
  assert.deepEqual(parseSeedList('0,1, 7'), [0, 1, 7]);
  assert.throws(() => parseSeedList('0,0'), /--seeds/);
  assert.throws(() => parseSeedList('a'), /--seeds/);
  assert.throws(() => parseSeedList(''), /--seeds/);
});

test('a tiny random model through its pipeline: the report has every group and a distance', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-eval-model-'));
  try {
    const tokenizer = buildWordLevelTokenizer(['a red ball', 'a blue cube'], { maxLength: 8 });
    await saveModel(dir, {
      vae: new CausalVideoVAE({ channels: [4, 8], downsample: ['spacetime'], groups: 4 }, new Rng(1)),
      transformer: new DiT({ hiddenSize: 32, depth: 1, numHeads: 2, textDim: 16, timestepFeatures: 16 }, new Rng(2)),
      text_encoder: new TextEncoder({ vocabSize: tokenizer.vocabSize, maxLength: 8, width: 16, layers: 1, heads: 2 }, new Rng(3)),
      tokenizer,
    });
    const pipeline = await loadPipeline(dir);
    const all = await readPromptFile('eval/prompts.jsonl');
    const prompts = [all.find((p) => !p.held_out)!, all.find((p) => p.held_out)!];
    const report = await evaluate(prompts, pipelineGenerator(pipeline, { width: 32, height: 32, frames: 5, steps: 2 }), {
      seeds: [0, 1], classifier: tinyClassifier(),
    });
    assert.equal(report.samples, 4);
    assert.equal(report.scores.seen!.samples, 2);
    assert.equal(report.scores.heldOut!.samples, 2);
    assert.ok(report.scores.all.accuracy! >= 0 && report.scores.all.accuracy! <= 1);
    assert.ok(report.distance!.all!.distance > 0, 'noise from an untrained model is not the rendered scene');
    assert.equal(report.distance!.all!.clips, 4);
    assert.ok(report.reference!.all.accuracy! > report.scores.all.accuracy!, 'the rendered clips grade better than noise');
    assert.equal(report.vae, null, 'no VAE measurement unless asked');

    // the VAE measured on the rendered clips of the same scenes, once per prompt
    const withVae = await evaluate(prompts, pipelineGenerator(pipeline, { width: 32, height: 32, frames: 5, steps: 1 }), {
      seeds: [0], judgeReference: false, reconstruct: vaeReconstructor(pipeline.parts.vae),
    });
    assert.equal(withVae.vae!.clips, 2);
    assert.ok(withVae.vae!.heldOutPsnr !== null);
    for (const v of [withVae.vae!.psnr, withVae.vae!.firstFramePsnr, withVae.vae!.lastFramePsnr]) assert.ok(Number.isFinite(v) && v > 0 && v < 40, `psnr ${v}`);
    assert.match(formatReport(withVae), /VAE reconstruction of 2 rendered clips/);
    assert.match(formatReport(withVae), /VAE ceiling \(reconstructed\)/);
    assert.equal(withVae.vae!.judged.all.samples, 2);
    // the VAE alone, with no generation, measures exactly what the full evaluation measured at its first seed
    const alone = await evaluateVae(prompts, vaeReconstructor(pipeline.parts.vae), { size: { width: 32, height: 32, frames: 5, fps: 8 }, seed: 0 });
    assert.deepEqual(alone.vae, withVae.vae);
    assert.equal(alone.prompts, 2);
    assert.match(formatVaeReport(alone), /2 prompts rendered at 32x32, 5 frames \(seed 0\)/);
    assert.match(formatVaeReport(alone), /VAE ceiling, held-out/);
    // and at another first seed, the same scenes that evaluation renders at that seed
    const atSeed3 = await evaluate(prompts, pipelineGenerator(pipeline, { width: 32, height: 32, frames: 5, steps: 1 }), {
      seeds: [3], judgeReference: false, reconstruct: vaeReconstructor(pipeline.parts.vae),
    });
    const aloneAt3 = await evaluateVae(prompts, vaeReconstructor(pipeline.parts.vae), { size: { width: 32, height: 32, frames: 5, fps: 8 }, seed: 3 });
    assert.deepEqual(aloneAt3.vae, atSeed3.vae);
    await assert.rejects(evaluateVae([], (c) => c, { size: { width: 32, height: 32, frames: 5, fps: 8 } }), /prompts: expected at least one prompt/);
    // a perfect reconstructor is infinitely close; the report says so rather than averaging noise in
    const exact = await evaluate(prompts.slice(0, 1), greyGenerator, { seeds: [0], judgeReference: true, reconstruct: (c) => c });
    assert.equal(exact.vae!.psnr, Infinity);
    // and its reconstructions grade exactly as the rendered clips do
    assert.deepEqual(exact.vae!.judged.all, exact.reference!.all);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
