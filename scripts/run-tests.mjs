// Runs every *.test.ts under the given folder with Node's test runner, TypeScript loaded through tsx.
// Usage: node scripts/run-tests.mjs test [filter]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const [dir = 'test', filter = ''] = process.argv.slice(2);
function collect(d) {
  const out = [];
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts') && p.includes(filter)) out.push(p);
  }
  return out;
}
const files = collect(dir);
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${dir}${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}
console.log(`run-tests: ${files.length} files: ${files.map((f) => relative(dir, f)).join(' ')}`);
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  env: { ...process.env, TESSERA_QUIET: '1' },
});
process.exit(res.status ?? 1);
