import { readFile } from 'node:fs/promises';
import { TesseraError } from '../errors.js';
import { writeFileAtomically } from '../atomic.js';

/** Reads a JSON object file; a missing file is not_found and bad JSON is corrupt_file, both naming the path. */
export async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TesseraError('not_found', `${path}: no such file`, { param: path, cause: e });
    }
    throw new TesseraError('io_error', `${path}: ${(e as Error).message}`, { param: path, cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TesseraError('corrupt_file', `${path}: not valid JSON (${(e as Error).message})`, { param: path, cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TesseraError('corrupt_file', `${path}: expected a JSON object`, { param: path });
  }
  return value as Record<string, unknown>;
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomically(path, JSON.stringify(value, null, 2) + '\n');
}
