import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TesseraError, invalidArgument } from '../src/errors.js';

test('invalidArgument names the field', () => {
  const e = invalidArgument('size', 'expected WxH, got "big"');
  assert.ok(e instanceof TesseraError);
  assert.equal(e.code, 'invalid_argument');
  assert.equal(e.param, 'size');
  assert.match(e.message, /^size: expected WxH/);
});
