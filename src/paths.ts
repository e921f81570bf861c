/** Where Tessera's own files are: the package root and the bundled model. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above this file with a package.json: the same from src/ (tsx) and dist/ (built). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Tessera package root');
    dir = up;
  }
  return dir;
}

/** The bundled model folder, or $TESSERA_MODEL when set. */
export function defaultModelDir(): string {
  return process.env.TESSERA_MODEL ? resolve(process.env.TESSERA_MODEL) : join(packageRoot(), 'models', 'tessera-world');
}
