import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeVideo, readMedia, readVideo, writeSpritesheet, writeThumbnail, writeVideo } from '../../src/media/index.js';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import { frameView, type VideoClip } from '../../src/media/types.js';
import { TesseraError } from '../../src/errors.js';
import { cropFrame, minFramePsnr, movingSquare, psnr } from './clips.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-media-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each decoded frame must match its own source frame better than the next one: no drops, repeats or reordering. */
function assertFrameOrder(source: VideoClip, decoded: VideoClip): void {
  for (let f = 0; f + 1 < source.frames; f++) {
    const own = psnr(frameView(source, f), cropFrame(decoded, f, source.height, source.width));
    const next = psnr(frameView(source, f + 1), cropFrame(decoded, f, source.height, source.width));
    assert.ok(own > next, `frame ${f}: ${own.toFixed(1)} dB against itself, ${next.toFixed(1)} dB against frame ${f + 1}`);
  }
}

// Bounds sit a few dB under what the codecs reach on this clip: 4:2:0 chroma smears the saturated square's edges
// in mp4/webm/webp (~27 dB at crf 18), while GIF keeps full-resolution colour through a global palette (~38 dB).
const ROUND_TRIPS: { ext: string; minPsnr: number }[] = [
  { ext: 'mp4', minPsnr: 24 },
  { ext: 'webm', minPsnr: 24 },
  { ext: 'gif', minPsnr: 32 },
  { ext: 'webp', minPsnr: 23 },
];

describe('write + read round trips (32x32, 8 frames)', () => {
  const clip = movingSquare(8, 32, 32);
  for (const { ext, minPsnr } of ROUND_TRIPS) {
    test(ext, async () => {
      const path = join(dir, `clip.${ext}`);
      assert.deepEqual(await writeVideo(path, clip), [path]);
      const back = await readMedia(path);
      assert.equal(back.frames, 8);
      assert.equal(back.width, 32);
      assert.equal(back.height, 32);
      assert.ok(Math.abs(back.fps - 8) < 0.2, `fps ${back.fps}`);
      const quality = minFramePsnr(clip, back);
      assert.ok(quality >= minPsnr, `${ext}: worst frame ${quality.toFixed(1)} dB < ${minPsnr} dB`);
      assertFrameOrder(clip, back);
    });
  }

  test('png: one frame is one lossless file', async () => {
    const still = movingSquare(1, 32, 32);
    const path = join(dir, 'still.png');
    await writeVideo(path, still);
    const back = await readMedia(path);
    assert.equal(back.frames, 1);
    assert.deepEqual(back.data, still.data);
  });

  test('png: a multi-frame clip becomes numbered lossless files', async () => {
    const paths = await writeVideo(join(dir, 'seq.png'), clip);
    assert.deepEqual(paths, Array.from({ length: 8 }, (_, f) => join(dir, `seq_000${f}.png`)));
    const frame5 = await readMedia(paths[5]!);
    assert.deepEqual(frame5.data, frameView(clip, 5));
  });

  test('odd sizes are padded to even for mp4 by repeating the edge', async () => {
    const odd = movingSquare(4, 31, 33);
    const path = join(dir, 'odd.mp4');
    await writeVideo(path, odd);
    const back = await readVideo(path);
    assert.equal(back.width, 34);
    assert.equal(back.height, 32);
    assert.ok(minFramePsnr(odd, back) >= 24);
    // The added column repeats the last real one, so it is close to it rather than black.
    const frame = frameView(back, 0);
    const at = (x: number, y: number): number => frame[(y * 34 + x) * 3]!;
    assert.ok(Math.abs(at(33, 10) - at(32, 10)) < 12, `padding ${at(33, 10)} vs edge ${at(32, 10)}`);
  });
});

describe('mp4 container', () => {
  test('is H.264 yuv420p with the moov box before mdat (faststart)', async () => {
    const bytes = await encodeVideo(movingSquare(8, 32, 32), 'mp4');
    const boxes: string[] = [];
    for (let at = 0; at + 8 <= bytes.length; ) {
      const size = bytes.readUInt32BE(at);
      boxes.push(bytes.toString('latin1', at + 4, at + 8));
      if (size < 8) break; // 0 (to end) or 1 (64-bit size) do not occur in these small files
      at += size;
    }
    assert.equal(boxes[0], 'ftyp');
    assert.ok(boxes.includes('moov') && boxes.includes('mdat'), boxes.join(','));
    assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `box order ${boxes.join(',')}`);

    const path = join(dir, 'probe.mp4');
    await writeVideo(path, movingSquare(8, 32, 32));
    const { stderr } = await runFfmpeg(['-i', path]);
    assert.match(stderr, /Video: h264 .*yuv420p/);
  });
});

describe('in-memory encoding', () => {
  const clip = movingSquare(4, 16, 16);
  test('each format starts with its signature', async () => {
    const signatures: [Parameters<typeof encodeVideo>[1], string][] = [
      ['mp4', 'ftyp'],
      ['webm', '1a45dfa3'],
      ['gif', 'GIF89a'],
      ['webp', 'WEBP'],
    ];
    for (const [format, signature] of signatures) {
      const bytes = await encodeVideo(clip, format);
      const head = bytes.subarray(0, 12);
      const found = head.toString('latin1').includes(signature) || head.toString('hex').startsWith(signature);
      assert.ok(found, `${format} begins ${head.toString('hex')}`);
    }
  });

  test('png of a multi-frame clip is refused, not truncated', async () => {
    await assert.rejects(encodeVideo(clip, 'png'), (e: TesseraError) => e.code === 'unsupported' && /single frame/.test(e.message));
  });
});

describe('thumbnail and spritesheet', () => {
  const clip = movingSquare(8, 32, 24);
  test('thumbnail is a WebP of the middle frame', async () => {
    const path = join(dir, 'thumb.webp');
    await writeThumbnail(path, clip);
    const bytes = await readFile(path);
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, 'webp');
    assert.equal(meta.width, 24);
    assert.equal(meta.height, 32);
    const thumb = await readMedia(path);
    assert.ok(psnr(thumb.data, frameView(clip, 4)) > psnr(thumb.data, frameView(clip, 0)) + 3);
  });

  test('spritesheet tiles the frames in a grid', async () => {
    const square = join(dir, 'sheet.jpg');
    await writeSpritesheet(square, clip);
    const meta = await sharp(await readFile(square)).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [3 * 24, 3 * 32]); // ceil(sqrt(8)) = 3 columns, 3 rows

    const wide = join(dir, 'sheet-wide.png');
    await writeSpritesheet(wide, clip, { columns: 4 });
    const sheet = await readMedia(wide);
    assert.deepEqual([sheet.width, sheet.height], [4 * 24, 2 * 32]);
    // frame 6 sits in row 1, column 2 (lossless png, so exact)
    const row = 32 + 5;
    const cell = sheet.data.subarray((row * sheet.width + 2 * 24) * 3, (row * sheet.width + 3 * 24) * 3);
    assert.deepEqual(cell, frameView(clip, 6).subarray(5 * 24 * 3, 6 * 24 * 3));
  });
});

describe('file handling', () => {
  const clip = movingSquare(2, 8, 8);
  test('an unknown extension lists the supported ones', async () => {
    await assert.rejects(writeVideo(join(dir, 'clip.avi'), clip), (e: TesseraError) => {
      assert.equal(e.code, 'invalid_argument');
      assert.match(e.message, /clip\.avi.*\.mp4, \.webm, \.gif, \.webp, \.png/);
      return true;
    });
  });

  test('writes leave no temp files, and a failed write leaves nothing', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    await writeVideo(join(sub, 'a.mp4'), clip);
    await writeVideo(join(sub, 'a.webp'), clip);
    assert.deepEqual((await readdir(sub)).sort(), ['a.mp4', 'a.webp']);
    await assert.rejects(writeVideo(join(sub, 'a.mp4', 'b.mp4'), clip), (e: TesseraError) => e.code === 'io_error' && /b\.mp4/.test(e.message));
    assert.deepEqual((await readdir(sub)).sort(), ['a.mp4', 'a.webp']);
  });

  test('a clip whose data does not match its shape is rejected before ffmpeg runs', async () => {
    const bad = { ...clip, data: clip.data.subarray(1) };
    await assert.rejects(writeVideo(join(dir, 'bad.mp4'), bad), (e: TesseraError) => e.param === 'clip.data');
  });
});
