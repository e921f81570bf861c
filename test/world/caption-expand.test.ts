import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  captionSpec, expandPrompt, expandPromptWithLlm, parsePrompt, randomSpec, sceneFacts, validateSpec, worldVocabulary,
  SIZE_WORDS, COLOUR_NAMES, CAPTION_LEVELS,
} from '../../src/world/index.js';
import {
  BACKGROUND_PHRASES, CAMERA_PHRASES, DIRECTION_PHRASES, LIGHTING_PHRASES, MOTION_VERBS, SHAPE_NOUNS, SOLID_PHRASES, WEATHER_PHRASES,
  groupObjects,
} from '../../src/world/caption.js';
import { captionWords } from '../../src/world/vocabulary.js';
import { isShape } from '../../src/world/lexicon.js';

test('short captions name the main subject and its motion', () => {
  const spec = validateSpec({ objects: [{ kind: 'circle', colour: 'red', motion: 'bounce' }] });
  const shorts = new Set(Array.from({ length: 30 }, (_, s) => captionSpec(spec, 'short', s)));
  assert.ok(shorts.has('a red ball bounces') || shorts.has('a red circle bounces'));
  for (const c of shorts) assert.match(c, /^a red (circle|ball|disc) bounces( up and down)?$/);
});

test('dense captions carry every attribute of the scene', () => {
  for (let seed = 0; seed < 300; seed++) {
    const spec = randomSpec(seed);
    const text = captionSpec(spec, 'dense', seed).toLowerCase();
    const has = (phrases: readonly string[]) => phrases.some((p) => p && text.includes(p.toLowerCase().replace(/\.$/, '')));
    for (const o of spec.objects) {
      assert.ok(isShape(o.kind) ? has(SHAPE_NOUNS[o.kind]) : text.includes(o.kind), `kind ${o.kind}: ${text}`);
      if (o.colour) assert.ok(text.includes(o.colour), `colour ${o.colour}: ${text}`);
      if (o.size !== 'medium') assert.ok(has(SIZE_WORDS[o.size]), `size ${o.size}: ${text}`);
      assert.ok(has(MOTION_VERBS[o.motion.type].flat()), `motion ${o.motion.type}: ${text}`);
      if (o.motion.direction) assert.ok(has(DIRECTION_PHRASES[o.motion.direction]), `direction ${o.motion.direction}: ${text}`);
    }
    const bg = spec.background;
    assert.ok(bg.kind === 'solid' ? has(SOLID_PHRASES.map((p) => p.replace('{c}', bg.colour!))) : has(BACKGROUND_PHRASES[bg.kind]), `background: ${text}`);
    if (spec.camera !== 'still') assert.ok(has(CAMERA_PHRASES[spec.camera]), `camera: ${text}`);
    if (spec.weather !== 'clear') assert.ok(text.includes(spec.weather === 'snow' ? 'snow' : 'rain'), `weather: ${text}`);
    if (spec.lighting === 'night') assert.ok(/moonlight|night/.test(text), `lighting: ${text}`);
  }
});

test('fact captions state one true fact of the scene alone, and every kind of fact occurs', () => {
  const topics = new Map<string, number>();
  const count = (t: string) => topics.set(t, (topics.get(t) ?? 0) + 1);
  for (let seed = 0; seed < 400; seed++) {
    const spec = randomSpec(seed);
    const text = captionSpec(spec, 'fact', seed);
    const bg = spec.background;
    const settings = bg.kind === 'solid' ? SOLID_PHRASES.map((p) => p.replace('{c}', bg.colour!)) : BACKGROUND_PHRASES[bg.kind];
    const sentences = [...WEATHER_PHRASES[spec.weather], ...LIGHTING_PHRASES[spec.lighting], ...CAMERA_PHRASES[spec.camera]].filter((p) => p);
    if (settings.includes(text)) { count('setting'); continue; }
    if (sentences.includes(text)) { count('scene'); continue; }
    // otherwise it names one subject: its look (count, colour, noun) or its motion (count, noun, verb)
    const words = text.split(' ');
    const named = groupObjects(spec.objects).filter((g) => {
      const nouns = isShape(g.object.kind) ? SHAPE_NOUNS[g.object.kind] : [g.object.kind];
      return nouns.some((n) => (n.includes(' ') ? text.includes(n) : words.includes(n) || words.includes(`${n}s`) || words.includes(`${n}es`)));
    });
    assert.ok(named.length > 0, `names no subject of the scene: '${text}'`);
    if (named.some((g) => MOTION_VERBS[g.object.motion.type].flat().some((v) => text.includes(` ${v}`)))) {
      count('motion');
      assert.ok(!COLOUR_NAMES.some((c) => words.includes(c)), `a motion fact names no colour: '${text}'`);
    } else {
      count('look');
      assert.ok(words.length <= 4, `a look fact is count, colour and noun: '${text}'`);
      assert.ok(named.some((g) => !g.object.colour || words.includes(g.object.colour)), `a subject's own colour: '${text}'`);
    }
  }
  for (const t of ['look', 'motion', 'setting', 'scene']) assert.ok((topics.get(t) ?? 0) >= 40, `${t}: ${topics.get(t) ?? 0} of 400`);
});

test('wording varies with the seed', () => {
  const spec = randomSpec(3);
  assert.ok(new Set(Array.from({ length: 20 }, (_, s) => captionSpec(spec, 'dense', s))).size >= 10);
});

test('worldVocabulary covers every word captions and expansions produce', () => {
  const vocab = new Set(worldVocabulary());
  for (const c of COLOUR_NAMES) assert.ok(vocab.has(c));
  for (let seed = 0; seed < 300; seed++) {
    const spec = randomSpec(seed);
    for (const level of CAPTION_LEVELS) {
      for (const w of captionWords(captionSpec(spec, level, seed))) assert.ok(vocab.has(w), `'${w}' missing`);
    }
  }
  for (const w of captionWords(expandPrompt('a crimson automobile drives left at sunset', { seed: 1 }).caption)) assert.ok(vocab.has(w), w);
});

test('expander round trip: spec -> dense caption -> expander -> same facts, over 1,000 random specs', () => {
  let same = 0;
  const n = 1000;
  for (let seed = 0; seed < n; seed++) {
    const spec = randomSpec(10_000 + seed);
    const back = expandPrompt(captionSpec(spec, 'dense', seed), { seed }).spec;
    if (sceneFacts(back) === sceneFacts(spec)) same++;
  }
  console.log(`# expander round trip: ${(100 * same / n).toFixed(1)}% of ${n} specs`);
  assert.ok(same / n >= 0.95, `${same}/${n}`);
});

test('synonyms, counts and settings from free prompts', () => {
  const mammoths = expandPrompt('Several giant woolly mammoths approach treading through a snowy meadow', { seed: 2 });
  assert.equal(mammoths.spec.objects.length, 3);
  for (const o of mammoths.spec.objects) { assert.equal(o.kind, 'elephant'); assert.equal(o.size, 'large'); assert.equal(o.motion.type, 'walk'); }
  assert.equal(mammoths.spec.background.kind, 'snow');
  assert.ok(mammoths.unknownWords.includes('woolly'));
  assert.match(mammoths.caption, /elephant/);
  const car = parsePrompt('a crimson automobile drives to the left on a plain black background while the camera pans right, at night in the rain');
  assert.deepEqual(car.entities[0], { count: 1, colour: 'red', kind: 'car', motion: 'move', direction: 'left' });
  assert.deepEqual(car.background, { kind: 'solid', colour: 'black' });
  assert.equal(car.camera, 'pan-right');
  assert.equal(car.weather, 'rain');
  assert.equal(car.lighting, 'night');
  const filled = expandPrompt('something wobbles', { seed: 5 });
  assert.equal(filled.spec.objects.length, 1, 'a subject is filled in');
  assert.deepEqual(filled.unknownWords, ['something', 'wobbles']);
});

test('the LLM rewrite is used when it answers and skipped on any error', async () => {
  const reply = (content: string, status = 200) => (async () => new Response(JSON.stringify({ choices: [{ message: { content } }] }), { status })) as unknown as typeof fetch;
  const llm = { baseUrl: 'http://llm.invalid/v1', model: 'test' };
  const ok = await expandPromptWithLlm('a cute pup sprints', { seed: 1, llm: { ...llm, fetch: reply('a small dog runs to the right on a green grass field') } });
  assert.equal(ok.source, 'llm');
  assert.equal(ok.spec.objects[0]!.kind, 'dog');
  assert.equal(ok.spec.objects[0]!.motion.direction, 'right');
  const failed = await expandPromptWithLlm('a red ball bounces', { seed: 1, llm: { ...llm, fetch: reply('', 500) } });
  assert.equal(failed.source, 'builtin');
  assert.equal(failed.spec.objects[0]!.colour, 'red');
  const thrown = await expandPromptWithLlm('a red ball bounces', { seed: 1, llm: { ...llm, fetch: (async () => { throw new Error('offline'); }) as unknown as typeof fetch } });
  assert.equal(thrown.source, 'builtin');
});
