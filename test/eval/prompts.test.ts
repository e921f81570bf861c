import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { HELD_OUT_COMBINATIONS, hasHeldOutCombination, heldOutCombinationOf } from '../../src/eval/held-out.js';
import { makePrompts, readsBack } from '../../src/eval/make-prompts.js';
import { parsePromptFile, readPromptFile } from '../../src/eval/prompts.js';
import { parsePrompt } from '../../src/world/expand.js';
import { BACKGROUNDS, MOTIONS, isShape, motionsFor } from '../../src/world/index.js';

const FILE = 'eval/prompts.jsonl';

test('eval/prompts.jsonl: at least 200 valid prompts covering every motion and background', async () => {
  const prompts = await readPromptFile(FILE); // validates every spec, level, object count and held-out flag
  assert.ok(prompts.length >= 200, `${prompts.length} prompts`);
  const motions = new Set(prompts.flatMap((p) => p.spec.objects.map((o) => o.motion.type)));
  const backgrounds = new Set(prompts.map((p) => p.spec.background.kind));
  assert.deepEqual([...MOTIONS].filter((m) => !motions.has(m)), [], 'every motion appears');
  assert.deepEqual([...BACKGROUNDS].filter((b) => !backgrounds.has(b)), [], 'every background appears');
  for (const level of ['short', 'dense'] as const) assert.ok(prompts.filter((p) => p.level === level).length >= 50, level);
  for (const n of [1, 2, 3]) assert.ok(prompts.some((p) => p.objects === n), `${n} objects`);
  assert.ok(prompts.every((p) => p.objects >= 1 && p.objects <= 3));
  // every object moves in a way its kind can
  for (const p of prompts) for (const o of p.spec.objects) assert.ok(motionsFor(o.kind).includes(o.motion.type), `${p.id}: ${o.kind} ${o.motion.type}`);
});

test('held-out prompts are flagged, and cover every held-out triple', async () => {
  const prompts = await readPromptFile(FILE);
  const held = prompts.filter((p) => p.held_out);
  assert.ok(held.length >= 16 && held.length < prompts.length / 4, `${held.length} held-out prompts`);
  for (const p of prompts) assert.equal(p.held_out, hasHeldOutCombination(p.spec), p.id);
  for (const c of HELD_OUT_COMBINATIONS) {
    assert.ok(isShape(c.kind) && motionsFor(c.kind).includes(c.motion), `${c.colour} ${c.kind} ${c.motion} is a possible scene`);
    assert.ok(held.some((p) => p.spec.objects.some((o) => heldOutCombinationOf(o) === c)), `${c.colour} ${c.kind} ${c.motion} is asked for`);
  }
  assert.ok(held.every((p) => p.tags.includes('held-out')));
});

test('every prompt reads back through the expander to its spec', async () => {
  for (const p of await readPromptFile(FILE)) assert.ok(readsBack(parsePrompt(p.prompt), p.spec, p.level), `${p.id}: ${p.prompt}`);
});

test('the file is what make-prompts writes (deterministic)', async () => {
  const text = await readFile(FILE, 'utf8');
  const { prompts } = makePrompts(text.trim().split('\n').length, 2024);
  // the world's caption tables or scene defaults changed: regenerate with `npx tsx src/eval/make-prompts.ts`
  assert.equal(prompts.map((p) => JSON.stringify(p)).join('\n') + '\n', text, 'eval/prompts.jsonl is stale: run npx tsx src/eval/make-prompts.ts');
});

test('prompt file errors name the line and the field', () => {
  const good = JSON.stringify({ id: 'a', prompt: 'a red circle bounces', level: 'short', objects: 1, held_out: false, tags: [], spec: { objects: [{ kind: 'circle', colour: 'red', motion: 'bounce' }] } });
  assert.equal(parsePromptFile(good).length, 1);
  assert.throws(() => parsePromptFile(`${good}\n${good}`, 'f.jsonl'), /f\.jsonl:2: duplicate id "a"/);
  assert.throws(() => parsePromptFile(good.replace('"circle"', '"blob"'), 'f.jsonl'), /f\.jsonl:1: "spec" is not a valid scene: objects\[0\]\.kind/);
  assert.throws(() => parsePromptFile(good.replace('"objects":1', '"objects":2'), 'f.jsonl'), /"objects" is 2 but the spec has 1/);
  const held = good.replace('"red"', '"blue"');
  assert.throws(() => parsePromptFile(held, 'f.jsonl'), /"held_out" is false but the spec has a held-out/);
  assert.throws(() => parsePromptFile('{not json', 'f.jsonl'), /f\.jsonl:1: not valid JSON/);
});
