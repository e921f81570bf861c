import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { VideoClip } from '../../src/media/types.js';
import {
  MetricsLog, Telemetry, lossChartSvg, niceTicks, readMetrics, smoothEma, writeLossCurve, writeSampleAnimation, writeSampleGrid,
} from '../../src/train/telemetry.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tessera-telemetry-'));
}

/** A clip whose frame f is filled with grey level 10 f, so frames can be told apart in the output. */
function rampClip(frames: number, height: number, width: number): VideoClip {
  const data = new Uint8Array(frames * height * width * 3);
  for (let f = 0; f < frames; f++) data.fill(10 * f + 5, f * height * width * 3, (f + 1) * height * width * 3);
  return { frames, height, width, fps: 8, data };
}

test('MetricsLog appends one flushed JSON line per step and reads back', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'run', 'metrics.jsonl');
    const log = new MetricsLog(path);
    log.log(0, { loss: 1.5, lr: 1e-4 });
    // readable before close: each line is written through at once
    assert.equal(readMetrics(path).length, 1);
    log.log(10, { loss: Number.NaN, note: 'diverged' });
    log.close();
    const again = new MetricsLog(path);
    again.log(20, { loss: 0.5 });
    again.close();
    const records = readMetrics(path);
    assert.deepEqual(records.map((r) => r.step), [0, 10, 20]);
    assert.equal(records[0]!.loss, 1.5);
    assert.equal(records[1]!.loss, 'NaN');
    assert.ok(typeof records[0]!.time === 'number' && records[0]!.time > 1.6e9);
    assert.throws(() => new MetricsLog(join(dir, 'x.jsonl')).log(-1, {}), /step/);
    // a torn final line (crash mid-write) is skipped; a torn middle line is an error
    await writeFile(path, '{"step":1,"time":1,"loss":2}\n{"step":2,"ti');
    assert.equal(readMetrics(path).length, 1);
    await writeFile(path, '{"step":1,"time":1}\n{"st\n{"step":3,"time":1}\n');
    assert.throws(() => readMetrics(path), /:2: not a JSON object/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('smoothing and ticks', () => {
  const s = smoothEma([1, 1, 1, 5], 0.5);
  assert.equal(s[0], 1, 'debiased: the first value is kept, not pulled toward 0');
  assert.ok(s[3]! > 1 && s[3]! < 5);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 1000, 4), [0, 500, 1000]);
  assert.ok(niceTicks(3, 97).every((t) => t >= 3 && t <= 97));
});

test('loss curve PNG decodes at the asked size and the chart has axes, raw and smoothed lines', async () => {
  const points = Array.from({ length: 300 }, (_, i) => ({ step: i * 10, value: 2 * Math.exp(-i / 60) + 0.05 + 0.05 * Math.sin(i) }));
  const svg = lossChartSvg([{ name: 'loss', points }], { width: 640, height: 360 });
  assert.equal((svg.match(/<path /g) ?? []).length, 2, 'raw and smoothed line');
  assert.match(svg, />step</);
  assert.match(svg, /log scale|<text[^>]*>0\.5</, 'y axis has tick labels');
  assert.throws(() => lossChartSvg([{ name: 'loss', points: [] }]), /at least one finite point/);
  const dir = await tempDir();
  try {
    const path = join(dir, 'plots', 'loss.png');
    await writeLossCurve(path, [{ name: 'loss', points }, { name: 'val', points: points.filter((_, i) => i % 20 === 0) }], { width: 640, height: 360 });
    const meta = await sharp(await readFile(path)).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 640);
    assert.equal(meta.height, 360);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sample grid PNG: rows = clips, columns = frames over time, first and last frame shown', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'grid.png');
    const clips = [{ clip: rampClip(16, 16, 16), label: 'a red ball bounces' }, { clip: rampClip(9, 16, 16), label: 'two <stars> & co' }];
    const size = await writeSampleGrid(path, clips, { columns: 4, scale: 2 });
    const { data, info } = await sharp(await readFile(path)).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, size.width);
    assert.equal(info.height, size.height);
    assert.equal(info.height, 2 * (32 + 2) + 2);
    // row 0: columns show frames 0, 5, 10, 15 -> grey levels 5, 55, 105, 155 at the centre of each cell
    const level = (row: number, col: number) => {
      const x = 180 + 2 + col * (32 + 2) + 16;
      const y = 2 + row * (32 + 2) + 16;
      return data[(y * info.width + x) * info.channels]!;
    };
    assert.deepEqual([0, 1, 2, 3].map((c) => level(0, c)), [5, 55, 105, 155]);
    assert.deepEqual([0, 1, 2, 3].map((c) => level(1, c)), [5, 35, 55, 85]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('animated grid: GIF and WebP decode with every frame, clips side by side', async () => {
  const dir = await tempDir();
  try {
    const clips = [{ clip: rampClip(6, 16, 16), label: 'one' }, { clip: rampClip(4, 16, 24), label: 'two' }, { clip: rampClip(6, 16, 16), label: 'three' }];
    for (const ext of ['gif', 'webp']) {
      const path = join(dir, `anim.${ext}`);
      const out = await writeSampleAnimation(path, clips, { scale: 2 });
      const meta = await sharp(await readFile(path), { animated: true }).metadata();
      assert.equal(meta.format, ext);
      assert.equal(meta.pages, 6, `${ext}: the longest clip's frame count`);
      assert.equal(meta.width, out.width);
      assert.equal(meta.pageHeight, out.height);
      assert.ok(out.width >= 3 * 48, 'three cells side by side');
    }
    await assert.rejects(writeSampleAnimation(join(dir, 'x.mp4'), clips), /\.gif or \.webp/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Telemetry folder: metrics, chart and samples every N steps', async () => {
  const dir = await tempDir();
  try {
    const t = new Telemetry(dir);
    assert.equal(await t.writeChart(), null, 'nothing to draw yet');
    for (let step = 0; step < 30; step++) t.log(step, { loss: 1 / (1 + step) });
    const chart = await t.writeChart();
    assert.equal((await sharp(await readFile(chart!)).metadata()).width, 800);
    const { grid, animation } = await t.writeSamples(30, [{ clip: rampClip(4, 16, 16), label: 'x' }]);
    assert.match(grid, /samples\/step-000030\.png$/);
    assert.equal((await sharp(await readFile(animation), { animated: true }).metadata()).pages, 4);
    t.close();
    assert.equal(readMetrics(join(dir, 'metrics.jsonl')).length, 30);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
