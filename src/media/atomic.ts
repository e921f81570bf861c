/**
 * Atomic file output: a reader sees either the old file or the complete new one, never a half-written one,
 * even if the process dies mid-write. Write a temp file in the same directory, fsync it, rename over the target.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TesseraError } from '../errors.js';

/**
 * Runs `produce(tempPath)` to create the file, then moves it to `path`. `tempSuffix` keeps an extension on the
 * temp name for tools that look at it. On failure the temp file is removed and the target is left untouched.
 */
export async function writeAtomically(path: string, produce: (tempPath: string) => Promise<void>, tempSuffix = ''): Promise<void> {
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp${tempSuffix}`);
  try {
    await produce(tempPath);
    await fsyncPath(tempPath, 'r+');
    await rename(tempPath, path);
  } catch (e) {
    await rm(tempPath, { force: true });
    if (e instanceof TesseraError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new TesseraError('io_error', `cannot write "${path}": ${reason}`, { param: path, cause: e });
  }
  // Persist the rename itself; some filesystems refuse fsync on a directory, which only weakens durability.
  await fsyncPath(dir, 'r').catch(() => undefined);
}

/** Writes bytes to `path` atomically. */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomically(path, async (tempPath) => {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
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
