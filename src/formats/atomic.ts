import { open, rename, rm, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TesseraError } from '../errors.js';

let tmpCounter = 0;

/**
 * Writes a file so that readers see either the old content or the whole new content, never a torn one:
 * the data goes to a temporary file beside the target, is fsynced, then renamed over the target, and the
 * directory is fsynced so the rename itself survives a crash. `write` receives the open handle.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: import('node:fs/promises').FileHandle) => Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new TesseraError('io_error', `cannot write ${path}: ${(e as Error).message}`, { param: path, cause: e });
  }
  await syncDirectory(dir);
}

export async function writeBytesAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await writeFileAtomic(path, async (handle) => {
    await handle.writeFile(bytes);
  });
}

async function syncDirectory(dir: string): Promise<void> {
  // Not every filesystem lets a directory be opened for fsync; the file itself is already durable.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}
