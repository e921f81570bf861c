/** `tessera train` before any training: the config as it will run, and errors named before work starts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tessera } from './run-cli.js';

test('train --print-config prints the config with "extends" resolved and exits', () => {
  const r = tessera('train', 'dit', '--config', 'configs/dit-world-fourth-weight-2.json', '--print-config');
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(r.stdout);
  assert.equal(config.runDir, 'runs/dit-world-fourth-weight-2');
  assert.equal(config.initFrom, 'runs/fourth/models/tessera-world');
  assert.equal(config.data.objectWeight, 2, 'the field the config changes');
  assert.equal(config.data.objectWeightMaxTime, 0.7, 'a field it inherits');
  assert.equal(config.optim.totalSteps, 5000);
  assert.equal(config.data.buckets.length, 4);
});

test('train names a config of the other task, and a missing config, in one line', () => {
  const wrong = tessera('train', 'vae', '--config', 'configs/dit-world-fourth-weight-2.json', '--print-config');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /is a dit config, not vae/);
  const missing = tessera('train', 'dit', '--config', 'configs/no-such.json');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--config: cannot read configs\/no-such\.json/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
});
