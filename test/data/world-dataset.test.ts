import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorldDataset, matchesCombo, videoFolderClips } from '../../src/data/index.js';
import { renderScene, validateSceneMix, validateSpec } from '../../src/world/index.js';
import { writeVideo } from '../../src/media/index.js';
import { isTesseraError } from '../../src/errors.js';

const buckets = [{ width: 32, height: 32, frames: 4, weight: 3 }, { width: 64, height: 32, frames: 1, weight: 1 }];

test('the stream is deterministic and resumes exactly from a cursor', () => {
  const a = new WorldDataset({ buckets, seed: 11 });
  const first = Array.from({ length: 6 }, () => a.next());
  const cursor = a.cursor();
  const after = a.next();
  const b = new WorldDataset({ buckets, seed: 11 });
  b.seek(JSON.parse(JSON.stringify(cursor)));
  const resumed = b.next();
  assert.equal(resumed.caption, after.caption);
  assert.deepEqual(resumed.clip.data, after.clip.data);
  const c = new WorldDataset({ buckets, seed: 11 });
  assert.deepEqual(c.next().clip.data, first[0]!.clip.data);
  assert.notEqual(new WorldDataset({ buckets, seed: 12 }).next().caption, first[0]!.caption);
  assert.throws(() => b.seek({ seed: 3, index: 0 }), /cursor\.seed/);
});

test('buckets are sampled by weight and clips have the bucket shape', () => {
  const ds = new WorldDataset({ buckets, seed: 1 });
  let wide = 0;
  for (let i = 0; i < 400; i++) {
    const s = ds.describe(i);
    if (s.bucket.width === 64) { wide++; assert.equal(s.spec.frames, 1); }
  }
  assert.ok(wide > 60 && wide < 140, `${wide} of 400`);
  const sample = ds.next();
  assert.equal(sample.clip.data.length, sample.bucket.frames * sample.bucket.height * sample.bucket.width * 3);
});

test('caption levels follow their weights', () => {
  const ds = new WorldDataset({ buckets, seed: 2, captionLevels: { short: 1 } });
  for (let i = 0; i < 20; i++) assert.equal(ds.describe(i).level, 'short');
});

test('held-out combinations never reach training and make up the held-out split', () => {
  const heldOut = [{ colour: 'red' as const, kind: 'star' }, { kind: 'elephant', motion: 'run' as const }];
  const train = new WorldDataset({ buckets, seed: 5, heldOut });
  for (let i = 0; i < 400; i++) for (const o of train.describe(i).spec.objects) for (const c of heldOut) assert.ok(!matchesCombo(o, c));
  const test = new WorldDataset({ buckets, seed: 5, heldOut, split: 'heldout' });
  for (let i = 0; i < 50; i++) assert.ok(test.describe(i).spec.objects.some((o) => heldOut.some((c) => matchesCombo(o, c))));
  assert.throws(() => new WorldDataset({ buckets, heldOut: [{}] }), (e: unknown) => isTesseraError(e) && /heldOut\[0\]/.test(e.message));
  assert.throws(() => new WorldDataset({ buckets: [{ width: 30, height: 32, frames: 2 }] }), /buckets\[0\]\.width/);
});

test('a folder of videos with captions.jsonl is cut into bucket-sized clips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-folder-'));
  try {
    const spec = validateSpec({ width: 64, height: 48, frames: 10, objects: [{ kind: 'circle', colour: 'red', motion: { type: 'move', direction: 'right' } }] });
    await writeVideo(join(dir, 'a.mp4'), renderScene(spec));
    writeFileSync(join(dir, 'captions.jsonl'), `${JSON.stringify({ file: 'a.mp4', caption: 'a red ball moves right' })}\n`);
    const clips = [];
    for await (const s of videoFolderClips({ dir, bucket: { width: 32, height: 32, frames: 4 } })) clips.push(s);
    assert.equal(clips.length, 2);
    for (const c of clips) {
      assert.deepEqual([c.clip.frames, c.clip.height, c.clip.width], [4, 32, 32]);
      assert.equal(c.caption, 'a red ball moves right');
    }
    assert.equal(clips[1]!.start, 0.5);
    assert.deepEqual(clips.map((c) => c.place), [{ video: 0, clip: 0 }, { video: 0, clip: 1 }]);
    const later = [];
    for await (const s of videoFolderClips({ dir, bucket: { width: 32, height: 32, frames: 4 }, from: { video: 0, clip: 1 } })) later.push(s);
    assert.deepEqual(later.map((c) => [c.start, c.place.clip]), [[0.5, 1]], 'from skips the clips before the place');
    assert.deepEqual(later[0]!.clip.data, clips[1]!.clip.data);
    await assert.rejects(async () => { for await (const _ of videoFolderClips({ dir, bucket: { width: 32, height: 32, frames: 4 }, order: [1] })) void _; }, /order: index 1 is not a line of .*captions\.jsonl \(1 videos\)/);
    writeFileSync(join(dir, 'captions.jsonl'), '{"file": "missing.mp4", "caption": "x"}\n');
    await assert.rejects(async () => { for await (const _ of videoFolderClips({ dir, bucket: { width: 32, height: 32, frames: 4 } })) void _; }, /captions\.jsonl:1: missing\.mp4 does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a scene mix shifts object counts, sizes and weather, and no mix leaves the stream as it was', () => {
  const big = [{ width: 128, height: 128, frames: 4 }];
  const tally = (ds: WorldDataset) => {
    const counts = [0, 0, 0, 0, 0];
    let medium = 0, objects = 0, clear = 0;
    for (let i = 0; i < 300; i++) {
      const { spec } = ds.describe(i);
      counts[spec.objects.length]!++;
      objects += spec.objects.length;
      medium += spec.objects.filter((o) => o.size === 'medium').length;
      if (spec.weather === 'clear') clear++;
    }
    return { counts, medium: medium / objects, clear: clear / 300 };
  };
  const uniform = tally(new WorldDataset({ buckets: big, seed: 3 }));
  const mixed = tally(new WorldDataset({ buckets: big, seed: 3, mix: { objectCounts: [1, 1], sizes: { medium: 1 }, clearWeather: 1 } }));
  assert.ok(uniform.counts[4]! > 0 && uniform.medium < 0.6 && uniform.clear < 0.85, JSON.stringify(uniform));
  assert.equal(mixed.counts[3]! + mixed.counts[4]!, 0, 'never more objects than objectCounts lists');
  assert.ok(mixed.counts[1]! > 100 && mixed.counts[2]! > 100, JSON.stringify(mixed.counts));
  assert.equal(mixed.medium, 1);
  assert.equal(mixed.clear, 1);
  // an empty mix draws exactly the scenes of no mix (old runs resume unchanged)
  const a = new WorldDataset({ buckets: big, seed: 3 }).describe(17);
  const b = new WorldDataset({ buckets: big, seed: 3, mix: {} }).describe(17);
  assert.deepEqual(b.spec, a.spec);
});

test('a scene mix can weight background kinds; a kind it leaves out weighs 1, and a bad one is named', () => {
  const big = [{ width: 128, height: 128, frames: 4 }];
  const share = (mix?: Record<string, unknown>) => {
    const ds = new WorldDataset({ buckets: big, seed: 4, mix: mix as never });
    let solid = 0;
    for (let i = 0; i < 400; i++) if (ds.describe(i).spec.background.kind === 'solid') solid++;
    return solid / 400;
  };
  // uniform: 1 in 9; solid weighted 8 against eight kinds at 1: a half
  assert.ok(share() > 0.06 && share() < 0.17, `${share()}`);
  assert.ok(Math.abs(share({ backgrounds: { solid: 8 } }) - 0.5) < 0.07, `${share({ backgrounds: { solid: 8 } })}`);
  assert.equal(share({ backgrounds: { solid: 1, sky: 0, sunset: 0, night: 0, snow: 0, grass: 0, sea: 0, desert: 0, city: 0 } }), 1);
  assert.throws(() => validateSceneMix({ backgrounds: { lava: 2 } }, 'mix'), /mix\.backgrounds/);
  assert.throws(() => validateSceneMix({ backgrounds: { solid: -1 } }, 'mix'), /mix\.backgrounds\.solid/);
});

test('a scene mix can weight motions among those a kind can do; a motion it leaves out weighs 1', () => {
  const big = [{ width: 128, height: 128, frames: 4 }];
  const tally = (mix?: Record<string, unknown>) => {
    const ds = new WorldDataset({ buckets: big, seed: 5, mix: mix as never });
    const motions: Record<string, number> = {};
    let objects = 0;
    for (let i = 0; i < 300; i++) {
      for (const o of ds.describe(i).spec.objects) {
        motions[o.motion.type] = (motions[o.motion.type] ?? 0) + 1;
        objects++;
      }
    }
    return (m: string) => (motions[m] ?? 0) / objects;
  };
  const uniform = tally();
  const jumpy = tally({ motions: { jump: 8 } });
  // jump is open to every kind: weighted 8 against at most nine others at 1 it is drawn at least 8/17 of the time
  // before placement (which refuses more jumps than most motions), against 1/10 to 1/4 uniformly
  assert.ok(uniform('jump') < 0.2, `uniform ${uniform('jump')}`);
  assert.ok(jumpy('jump') > 3 * uniform('jump'), `weighted ${jumpy('jump')} against ${uniform('jump')}`);
  const noStay = tally({ motions: { stay: 0 } });
  assert.equal(noStay('stay'), 0);
  assert.throws(() => validateSceneMix({ motions: { teleport: 2 } }, 'mix'), /mix\.motions/);
  assert.throws(() => validateSceneMix({ motions: { stay: 0, move: 0, fall: 0, bounce: 0, jump: 0, rise: 0, grow: 0, shrink: 0, orbit: 0, spin: 0, walk: 0, run: 0, fly: 0 } }, 'mix'), /mix\.motions: expected at least one positive weight/);
});
