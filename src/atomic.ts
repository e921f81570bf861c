/**
 * Atomic file output, used for every file a user keeps (models, checkpoints, videos, job outputs): a reader sees
 * either the old file or the complete new one, never a torn one, even if the process dies mid-write. The data goes
 * to a temporary file beside the target, is fsynced, renamed over the target, and the directory is fsynced so the
 * rename itself survives a crash. On failure the temporary file is removed and the target is left untouched.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TesseraError } from './errors.js';

/**
 * Runs `produce(tempPath)` to create the file (e.g. a child process writing it), then moves it to `path`.
 * `tempSuffix` keeps an extension on the temporary name for tools that look at it.
 */
export async function writeAtomically(path: string, produce: (tempPath: string) => Promise<void>, tempSuffix = ''): Promise<void> {
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp${tempSuffix}`);
  try {
    await mkdir(dir, { recursive: true });
    await produce(tempPath);
    await fsyncPath(tempPath, 'r+');
    await rename(tempPath, path);
  } catch (e) {
    await rm(tempPath, { force: true }).catch(() => undefined); // nothing to clean if the folder never existed
    if (e instanceof TesseraError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new TesseraError('io_error', `cannot write ${path}: ${reason}`, { param: path, cause: e });
  }
  // some filesystems refuse fsync on a directory, which only weakens durability
  await fsyncPath(dir, 'r').catch(() => undefined);
}

/** Writes through an open handle (for files written piece by piece, like safetensors). */
export async function writeHandleAtomically(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  await writeAtomically(path, async (tempPath) => {
    const handle = await open(tempPath, 'wx');
    try {
      await write(handle);
    } finally {
      await handle.close();
    }
  });
}

/** Writes bytes or text to `path` atomically. */
export async function writeFileAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await writeHandleAtomically(path, async (handle) => {
    await handle.writeFile(data);
  });
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
