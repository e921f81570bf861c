/**
 * Finding and running ffmpeg. Frames travel as raw rgb24 through stdin/stdout pipes; stderr is kept for errors.
 * Lookup order: $TESSERA_FFMPEG, the system `ffmpeg` on PATH, the binary shipped in @ffmpeg-installer/ffmpeg.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { TesseraError, type ErrorCode } from '../errors.js';

let cachedPath: string | undefined;

/** The ffmpeg executable to run (resolved once per process). */
export function ffmpegPath(): string {
  cachedPath ??= resolveFfmpeg();
  return cachedPath;
}

function resolveFfmpeg(): string {
  const override = process.env.TESSERA_FFMPEG;
  if (override) return override;
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return 'ffmpeg';
  try {
    const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
    return installer.path;
  } catch (e) {
    throw new TesseraError('unsupported', 'ffmpeg not found: install ffmpeg on PATH, set TESSERA_FFMPEG, or install @ffmpeg-installer/ffmpeg', {
      cause: e,
    });
  }
}

export interface FfmpegRun {
  /** Everything ffmpeg wrote to stdout (raw frames when the output is `pipe:1`). */
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

export interface FfmpegOptions {
  /** Bytes written to ffmpeg's stdin (raw frames when the input is `pipe:0`). */
  input?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * Runs ffmpeg with `args` and resolves with its output whatever the exit code: callers decide what a failure means
 * for their file. Rejects only if the process cannot start or `signal` fires.
 */
export function runFfmpeg(args: readonly string[], options: FfmpegOptions = {}): Promise<FfmpegRun> {
  const { input, signal } = options;
  const fullArgs = ['-hide_banner', ...(input === undefined ? ['-nostdin'] : []), ...args];
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TesseraError('aborted', 'the operation was aborted'));
    const child = spawn(ffmpegPath(), fullArgs, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const stdoutChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderrChunks.push(chunk));

    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TesseraError('io_error', `cannot run ffmpeg (${ffmpegPath()}): ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new TesseraError('aborted', 'the operation was aborted'));
      resolve({ stdout: Buffer.concat(stdoutChunks), stderr: Buffer.concat(stderrChunks).toString('utf8'), exitCode: code ?? -1 });
    });

    if (input !== undefined) {
      // ffmpeg may exit before reading everything (bad arguments, encoder error): its exit code and stderr tell
      // the story, so a broken pipe here is expected and not itself an error.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}

/**
 * A one-line reason from ffmpeg's stderr: the last lines that look like errors, without the noise of
 * configuration banners and progress lines.
 */
export function ffmpegReason(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    // "[mov,mp4 @ 0x15a67b00] moov atom not found": the demuxer tag and pointer are noise to a user
    .map((l) => l.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/, '').trim())
    .filter((l) => l !== '' && !/^(frame=|size=|video:|Press \[q\])/.test(l));
  const tail = lines.slice(-2).join('; ');
  return tail === '' ? 'ffmpeg failed without a message' : tail;
}

/** Classifies an ffmpeg failure on an input file into a TesseraError that names the file. */
export function ffmpegInputError(file: string, stderr: string): TesseraError {
  const reason = ffmpegReason(stderr);
  let code: ErrorCode = 'corrupt_file';
  let what = 'cannot be decoded';
  if (/No such file or directory/i.test(stderr)) {
    code = 'not_found';
    what = 'does not exist';
  } else if (/Permission denied/i.test(stderr)) {
    code = 'io_error';
    what = 'cannot be read';
  } else if (/(Unknown|unsupported) (codec|format)|Decoder .* not found|Invalid data found/i.test(stderr)) {
    // ffmpeg says "Invalid data" both for garbage and for containers it does not know; either way it is not media
    // we can read, and the bytes are the problem rather than the request.
    code = /Invalid data found/i.test(stderr) ? 'corrupt_file' : 'unsupported';
    what = code === 'corrupt_file' ? 'is not a readable video or image (corrupt or unknown format)' : 'uses a codec ffmpeg cannot decode';
  }
  return new TesseraError(code, `"${file}" ${what}: ${reason}`, { param: file });
}
