import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseFloatInRange, parseGuidanceInterval, parseIntInRange, parseOutputPath, parseSeed, parseSize } from '../../src/cli/options.js';
import { TesseraError } from '../../src/errors.js';

/** Asserts `fn` throws invalid_argument whose message starts with the flag and matches `mentions`. */
function assertInvalid(fn: () => unknown, flag: string, mentions: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TesseraError, String(e));
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.param, flag);
    assert.ok(e.message.startsWith(`${flag}: `), e.message);
    assert.match(e.message, mentions);
    return true;
  });
}

describe('parseSize', () => {
  test('accepts WxH in its spellings and a single side for squares', () => {
    assert.deepEqual(parseSize('128x96'), { width: 128, height: 96 });
    assert.deepEqual(parseSize(' 64X32 '), { width: 64, height: 32 });
    assert.deepEqual(parseSize('64×48'), { width: 64, height: 48 });
    assert.deepEqual(parseSize('256'), { width: 256, height: 256 });
  });
  test('errors name --size, say what is expected and echo the input', () => {
    assertInvalid(() => parseSize('big'), '--size', /expected WIDTHxHEIGHT in pixels \(e\.g\. 128x128\).*got "big"/);
    assertInvalid(() => parseSize('128x'), '--size', /got "128x"/);
    assertInvalid(() => parseSize('0x64'), '--size', /from 1 to 4096/);
    assertInvalid(() => parseSize('-64x64'), '--size', /got "-64x64"/);
    assertInvalid(() => parseSize('100x64', { multipleOf: 8 }), '--size', /multiple of 8/);
    assertInvalid(() => parseSize('64x64', { name: '--resolution', max: 32 }), '--resolution', /from 1 to 32/);
  });
});

describe('parseDuration', () => {
  test('frames and times', () => {
    assert.equal(parseDuration('17', 8), 17);
    assert.equal(parseDuration('9f', 8), 9);
    assert.equal(parseDuration('2s', 8), 16);
    assert.equal(parseDuration('1.5s', 24), 36);
    assert.equal(parseDuration('500ms', 8), 4);
    assert.equal(parseDuration('10ms', 8), 1); // never rounds to nothing
  });
  test('errors', () => {
    assertInvalid(() => parseDuration('two seconds', 8), '--duration', /frame count.*or a time.*got "two seconds"/);
    assertInvalid(() => parseDuration('1.5', 8), '--duration', /whole number of frames/);
    assertInvalid(() => parseDuration('0', 8), '--duration', /got "0" \(0 frames\)/);
    assertInvalid(() => parseDuration('10s', 8, { maxFrames: 33, name: '--length' }), '--length', /at most 33 frames.*80 frames/);
    assertInvalid(() => parseDuration('2s', 0), 'fps', /positive/);
  });
});

describe('parseSeed', () => {
  test('a given seed is kept exactly', () => {
    assert.equal(parseSeed('0'), 0);
    assert.equal(parseSeed('42'), 42);
    assert.equal(parseSeed(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  });
  test('absent, empty or "random" draws a fresh 32-bit seed', () => {
    const seeds = new Set([parseSeed(), parseSeed(''), parseSeed('random'), parseSeed(undefined), parseSeed('RANDOM')]);
    for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
    assert.ok(seeds.size >= 4, 'five draws from 2^32 values should not collide');
  });
  test('errors', () => {
    assertInvalid(() => parseSeed('-1'), '--seed', /whole number from 0.*"random".*got "-1"/);
    assertInvalid(() => parseSeed('1.5'), '--seed', /got "1\.5"/);
    assertInvalid(() => parseSeed('1e3'), '--seed', /got "1e3"/);
    assertInvalid(() => parseSeed('99999999999999999999'), '--seed', /got/);
  });
});

describe('numbers in ranges', () => {
  test('parseIntInRange', () => {
    assert.equal(parseIntInRange('--steps', '30', 1, 200), 30);
    assert.equal(parseIntInRange('--steps', '1', 1, 200), 1);
    assertInvalid(() => parseIntInRange('--steps', '0', 1, 200), '--steps', /whole number from 1 to 200, got "0"/);
    assertInvalid(() => parseIntInRange('--steps', '2.5', 1, 200), '--steps', /got "2\.5"/);
    assertInvalid(() => parseIntInRange('--steps', '', 1, 200), '--steps', /got ""/);
    assertInvalid(() => parseIntInRange('--steps', '0x10', 1, 200), '--steps', /got "0x10"/);
  });
  test('parseFloatInRange', () => {
    assert.equal(parseFloatInRange('--guidance', '7.5', 0, 30), 7.5);
    assertInvalid(() => parseFloatInRange('--strength', '1.2', 0, 1), '--strength', /number from 0 to 1, got "1\.2"/);
    assertInvalid(() => parseFloatInRange('--strength', 'NaN', 0, 1), '--strength', /got "NaN"/);
    assertInvalid(() => parseFloatInRange('--strength', ' ', 0, 1), '--strength', /got " "/);
  });
  test('parseGuidanceInterval', () => {
    assert.deepEqual(parseGuidanceInterval('0.3,1'), [0.3, 1]);
    assert.deepEqual(parseGuidanceInterval(' 0 , 0.8 '), [0, 0.8]);
    for (const bad of ['0.8,0.3', '0.5,0.5', '0.3', '0.3,1,2', '-0.1,1', '0,1.5', 'a,b', ',1']) {
      assertInvalid(() => parseGuidanceInterval(bad), '--guidance-interval', /expected LOW,HIGH with 0 <= LOW < HIGH <= 1/);
    }
  });
});

describe('parseOutputPath', () => {
  test('the extension picks the format', () => {
    assert.deepEqual(parseOutputPath('out/clip.MP4'), { path: 'out/clip.MP4', format: 'mp4' });
    assert.equal(parseOutputPath('a.jpg').format, 'jpeg');
    assert.equal(parseOutputPath('a.webp').format, 'webp');
  });
  test('an unknown or missing extension lists the supported ones', () => {
    assertInvalid(() => parseOutputPath('clip.avi'), '--output', /"\.avi".*expected one of \.mp4, \.webm, \.gif, \.webp, \.png, \.jpg, \.jpeg/);
    assertInvalid(() => parseOutputPath('clip', '-o'), '-o', /no extension/);
    assertInvalid(() => parseOutputPath(''), '--output', /empty/);
  });
});
