/** The training presets shipped in configs/: each one passes the same reading and validation `tessera train` applies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTrainConfig } from '../../src/train/config.js';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();
const files = readdirSync(join(root, 'configs')).filter((f) => f.endsWith('.json'));

test('configs/ holds the shipped presets', () => {
  assert.ok(files.length >= 10, `expected the shipped presets, found ${files.length}`);
});

for (const file of files) {
  test(`configs/${file} is a valid training config whose model folders exist`, async () => {
    const config = await readTrainConfig(join(root, 'configs', file));
    assert.ok(config.runDir.startsWith('runs/'), `runDir ${config.runDir} should be under the git-ignored runs/`);
    // A folder under runs/ is another run's output (README says which); anything else must be in the repository.
    for (const folder of [config.initFrom, config.vaeFrom]) {
      if (folder && !folder.startsWith('runs/')) assert.ok(existsSync(join(root, folder, 'config.json')) || existsSync(join(root, folder, 'model_index.json')), `${file}: ${folder} is not a model or VAE folder in the repository`);
    }
  });
}
