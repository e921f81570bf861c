// Builds the native kernels (node-gyp) unless the built addon is newer than every source file.
// A failed build is a warning on a user's machine (Tessera falls back to its TypeScript kernels) and an error in CI.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const addon = join(root, 'build', 'Release', 'tessera_native.node');

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestSource(p) : s.mtimeMs);
  }
  return newest;
}

const sourcesTime = Math.max(newestSource(join(root, 'native')), statSync(join(root, 'binding.gyp')).mtimeMs);
if (existsSync(addon) && statSync(addon).mtimeMs > sourcesTime && !process.argv.includes('--force')) {
  console.log('tessera: native kernels are up to date');
  process.exit(0);
}
const r = spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  const msg = 'tessera: the native kernels did not build; Tessera will run on its (much slower) TypeScript kernels';
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(msg);
}
