import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ffmpegPath, ffmpegReason, runFfmpeg } from '../../src/media/ffmpeg.js';

test('finds a working ffmpeg with the encoders Tessera uses', async () => {
  assert.ok(ffmpegPath().length > 0);
  const { stdout, exitCode } = await runFfmpeg(['-encoders']);
  assert.equal(exitCode, 0);
  for (const encoder of ['libx264', 'libvpx-vp9', 'gif']) assert.match(stdout.toString(), new RegExp(` ${encoder} `));
});

test('TESSERA_FFMPEG overrides the lookup, and a bad one fails with a clear error', () => {
  const writeModule = fileURLToPath(new URL('../../src/media/write.ts', import.meta.url));
  const script = `
    const { encodeVideo } = await import(${JSON.stringify(writeModule)});
    const clip = { frames: 1, height: 2, width: 2, fps: 8, data: new Uint8Array(12) };
    try { await encodeVideo(clip, 'mp4'); console.log('encoded'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, TESSERA_FFMPEG: '/nonexistent/ffmpeg' },
    encoding: 'utf8',
  });
  assert.match(child.stdout, /^io_error: cannot run ffmpeg \(\/nonexistent\/ffmpeg\)/, child.stderr);
});

test('ffmpegReason keeps the last error lines without demuxer pointers', () => {
  const stderr = '[mov,mp4,m4a @ 0x55d1c0a3b2c0] moov atom not found\nclip.mp4: Invalid data found when processing input\n';
  assert.equal(ffmpegReason(stderr), 'moov atom not found; clip.mp4: Invalid data found when processing input');
  assert.equal(ffmpegReason(''), 'ffmpeg failed without a message');
});
