import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, readImage, readMedia, readVideo, sniffImageType, writeVideo } from '../../src/media/index.js';
import { frameView } from '../../src/media/types.js';
import { Rng } from '../../src/engine/random.js';
import type { TesseraError } from '../../src/errors.js';
import { movingSquare, psnr } from './clips.js';

let dir: string;
let videoPath: string;
const clip = movingSquare(8, 32, 32);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-read-test-'));
  videoPath = join(dir, 'clip.mp4');
  await writeVideo(videoPath, clip);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 64x32 image in three vertical bands: red x < 16, green 16..47, blue x >= 48. */
async function bandsPng(): Promise<Buffer> {
  const width = 64, height = 32;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[(y * width + x) * 3 + (x < 16 ? 0 : x < 48 ? 1 : 2)] = 255;
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

function pixel(image: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** Equal within `tolerance` per channel: resampling filters leave a level or two of ringing at sharp edges. */
function assertColour(actual: number[], expected: number[], tolerance = 3): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance), `colour ${actual} is not ${expected}`);
}

function isCode(code: string, mentions: RegExp) {
  return (e: TesseraError): boolean => {
    assert.equal(e.name, 'TesseraError', String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, mentions);
    return true;
  };
}

describe('sniffImageType', () => {
  test('recognises PNG, JPEG and WebP by magic bytes', async () => {
    const png = await bandsPng();
    assert.equal(sniffImageType(png), 'png');
    assert.equal(sniffImageType(await sharp(png).jpeg().toBuffer()), 'jpeg');
    assert.equal(sniffImageType(await sharp(png).webp().toBuffer()), 'webp');
  });
  test('rejects other bytes', () => {
    assert.equal(sniffImageType(Buffer.from('GIF89a......')), null);
    assert.equal(sniffImageType(Buffer.from('RIFF\0\0\0\0WAVEfmt ')), null);
    assert.equal(sniffImageType(new Uint8Array([0x89, 0x50])), null);
    assert.equal(sniffImageType(new Uint8Array(0)), null);
  });
});

describe('readImage', () => {
  test('cover scales to fill and centre-crops', async () => {
    const path = join(dir, 'bands.png');
    await writeFile(path, await bandsPng());
    const image = await readImage(path, { width: 16, height: 16, fit: 'cover' });
    assert.deepEqual([image.frames, image.width, image.height], [1, 16, 16]);
    // 64x32 -> 32x16, the centre 16 columns are the green band only
    for (const x of [2, 8, 13]) assertColour(pixel(image, x, 8), [0, 255, 0]);
    // the edge columns border the cropped-away bands, so only a trace of them may bleed in
    for (const x of [0, 15]) assert.ok(Math.max(...pixel(image, x, 8)) === pixel(image, x, 8)[1], `column ${x}: ${pixel(image, x, 8)}`);
  });

  test('contain letterboxes with black, fill stretches', async () => {
    const png = await bandsPng();
    const contained = await decodeImage(png, { width: 16, height: 16, fit: 'contain' });
    assertColour(pixel(contained, 8, 0), [0, 0, 0]);
    assertColour(pixel(contained, 1, 8), [255, 0, 0]);
    const filled = await decodeImage(png, { width: 16, height: 16, fit: 'fill' });
    assertColour(pixel(filled, 1, 0), [255, 0, 0]);
    assertColour(pixel(filled, 14, 15), [0, 0, 255]);
  });

  test('one side given keeps the aspect ratio; none keeps the size', async () => {
    const png = await bandsPng();
    const half = await decodeImage(png, { width: 32 });
    assert.deepEqual([half.width, half.height], [32, 16]);
    const same = await decodeImage(png);
    assert.deepEqual([same.width, same.height, same.data.length], [64, 32, 64 * 32 * 3]);
  });

  test('decodes JPEG bytes, grey and alpha images to RGB', async () => {
    const jpeg = await sharp(await bandsPng()).jpeg({ quality: 95 }).toBuffer();
    const fromJpeg = await decodeImage(jpeg, { width: 64, height: 32 });
    assert.ok(pixel(fromJpeg, 32, 16)[1]! > 230);
    const grey = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).greyscale().png().toBuffer();
    assertColour(pixel(await decodeImage(grey), 0, 0), [128, 128, 128]);
    const clear = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } }).png().toBuffer();
    assertColour(pixel(await decodeImage(clear), 0, 0), [0, 0, 0]);
  });
});

describe('readVideo', () => {
  test('resamples the frame rate and limits frames', async () => {
    const half = await readVideo(videoPath, { fps: 4 });
    assert.deepEqual([half.frames, half.fps], [4, 4]);
    const three = await readVideo(videoPath, { maxFrames: 3 });
    assert.equal(three.frames, 3);
    assert.ok(psnr(frameView(three, 2), frameView(clip, 2)) > 24);
  });

  test('starts at startSeconds', async () => {
    const tail = await readVideo(videoPath, { startSeconds: 0.5 });
    assert.equal(tail.frames, 4);
    assert.ok(psnr(frameView(tail, 0), frameView(clip, 4)) > psnr(frameView(tail, 0), frameView(clip, 0)) + 3);
    await assert.rejects(readVideo(videoPath, { startSeconds: 5 }), isCode('invalid_argument', /past the end/));
  });

  test('scales and crops to the asked size', async () => {
    const small = await readVideo(videoPath, { width: 16, height: 8, maxFrames: 2 });
    assert.deepEqual([small.frames, small.width, small.height, small.data.length], [2, 16, 8, 2 * 16 * 8 * 3]);
  });

  test('readMedia reads still images as one frame and animated WebP as a clip', async () => {
    const pngPath = join(dir, 'still.png');
    await writeFile(pngPath, await bandsPng());
    const still = await readMedia(pngPath, { width: 8, height: 8 });
    assert.deepEqual([still.frames, still.width, still.height], [1, 8, 8]);
    const webpPath = join(dir, 'anim.webp');
    await writeVideo(webpPath, clip);
    const anim = await readMedia(webpPath, { fps: 4 });
    assert.deepEqual([anim.frames, anim.fps], [4, 4]);
    assert.ok(psnr(frameView(anim, 1), frameView(clip, 2)) > 22);
  });
});

describe('bad input gives a clear error naming the file', () => {
  test('random bytes', async () => {
    const rng = new Rng(7);
    const path = join(dir, 'noise.mp4');
    await writeFile(path, Uint8Array.from({ length: 4096 }, () => rng.int(256)));
    await assert.rejects(readVideo(path), isCode('corrupt_file', /noise\.mp4/));
    await assert.rejects(readMedia(path), isCode('corrupt_file', /noise\.mp4/));
    await assert.rejects(readImage(path), isCode('unsupported', /noise\.mp4.*PNG, JPEG or WebP/));
  });

  test('a truncated PNG', async () => {
    const png = await sharp(movingSquare(1, 64, 64).data, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    const path = join(dir, 'cut.png');
    await writeFile(path, png.subarray(0, Math.floor(png.length / 2)));
    await assert.rejects(readImage(path), isCode('corrupt_file', /cut\.png/));
    await assert.rejects(readMedia(path), isCode('corrupt_file', /cut\.png/));
  });

  test('a truncated MP4 and a missing file', async () => {
    const bytes = await (await import('node:fs/promises')).readFile(videoPath);
    const path = join(dir, 'cut.mp4');
    await writeFile(path, bytes.subarray(0, 200));
    await assert.rejects(readVideo(path), isCode('corrupt_file', /cut\.mp4/));
    await assert.rejects(readMedia(join(dir, 'absent.webm')), isCode('not_found', /absent\.webm/));
    await assert.rejects(readImage(join(dir, 'absent.png')), isCode('not_found', /absent\.png/));
  });

  test('bad options name the option', async () => {
    await assert.rejects(readVideo(videoPath, { width: 0 }), isCode('invalid_argument', /^width:/));
    await assert.rejects(readVideo(videoPath, { maxFrames: 1.5 }), isCode('invalid_argument', /^maxFrames:/));
  });
});
