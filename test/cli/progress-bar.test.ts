import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, formatDuration, formatRate, formatValue, type ProgressOutput } from '../../src/cli/progress-bar.js';

/** A fake stream and clock: the bar writes into `text`, time moves only when a test says so. */
function harness(opts: { tty: boolean; columns?: number; logEveryMs?: number; quiet?: boolean }) {
  let now = 0;
  const out: ProgressOutput & { text: string } = { text: '', isTTY: opts.tty, columns: opts.columns ?? 100, write(s: string) { this.text += s; } };
  const bar = new ProgressBar({ stream: out, quiet: opts.quiet ?? false, now: () => now, logEveryMs: opts.logEveryMs ?? 1000, redrawMs: 100 });
  return { out, bar, advance: (ms: number) => { now += ms; } };
}

describe('progress bar without a TTY (CI logs)', () => {
  test('prints plain lines at the start, every interval, and at the end', () => {
    const { out, bar, advance } = harness({ tty: false, logEveryMs: 1000 });
    for (let done = 0; done <= 20; done++) {
      bar.onProgress({ stage: 'denoise', done, total: 20, info: { loss: 0.123456 } });
      advance(250); // 4 steps per second
    }
    bar.finish();
    const lines = out.text.trimEnd().split('\n');
    assert.ok(!out.text.includes('\r') && !out.text.includes('\x1b'), 'no terminal control codes in logs');
    assert.equal(lines[0], 'denoise 0/20 (0%)  loss=0.1235');
    assert.ok(lines.length >= 5 && lines.length <= 7, `expected about one line a second, got ${lines.length}:\n${out.text}`);
    assert.match(lines[2]!, /^denoise \d+\/20 \(\d+%\)  4\.00 it\/s  ETA 0:0\d  loss=0\.1235$/);
    assert.equal(lines.at(-1), 'denoise 20/20 (100%)  4.00 it/s  in 0:05  loss=0.1235');
  });

  test('a new stage, or the same stage starting over, starts a new line at once', () => {
    const { out, bar, advance } = harness({ tty: false, logEveryMs: 60_000 });
    bar.onProgress({ stage: 'denoise', done: 1, total: 4 });
    advance(10);
    bar.onProgress({ stage: 'decode', done: 1, total: 2, fraction: 0.75 });
    advance(10);
    bar.onProgress({ stage: 'decode', done: 0, total: 2 });
    assert.deepEqual(out.text.trimEnd().split('\n'), ['denoise 1/4 (25%)', 'decode 1/2 (50%)  75% overall', 'decode 0/2 (0%)']);
  });

  test('repeating the final event prints the end once; quiet prints nothing', () => {
    const { out, bar } = harness({ tty: false });
    bar.onProgress({ stage: 'eval', done: 3, total: 3 });
    bar.onProgress({ stage: 'eval', done: 3, total: 3 });
    assert.equal(out.text.split('\n').filter(Boolean).length, 1);
    const silent = harness({ tty: false, quiet: true });
    silent.bar.onProgress({ stage: 'eval', done: 1, total: 3 });
    silent.bar.finish();
    assert.equal(silent.out.text, '');
  });
});

describe('progress bar on a TTY', () => {
  test('redraws one line in place, throttled, and ends it with a newline', () => {
    const { out, bar, advance } = harness({ tty: true, columns: 80 });
    for (let done = 0; done <= 10; done++) {
      bar.onProgress({ stage: 'train', done, total: 10, info: { loss: 2.5, lr: 0.0003 } });
      advance(50);
    }
    const draws = out.text.split('\r').filter(Boolean);
    assert.ok(draws.length >= 5 && draws.length <= 7, `throttled to ~every 100 ms, got ${draws.length}`);
    assert.ok(out.text.endsWith('\n') && out.text.split('\n').length === 2, 'finished stage ends its line once');
    const last = draws.at(-1)!.replace('\x1b[K\n', '');
    assert.match(last, /^train ▕█+▏ 10\/10  20\.00 it\/s  in 0:01  loss=2\.5  lr=3\.00e-4$/);
    assert.ok(last.length <= 80, `line fits 80 columns: ${last.length}`);
  });

  test('the bar fills in proportion', () => {
    const { out, bar } = harness({ tty: true, columns: 60 });
    bar.onProgress({ stage: 's', done: 1, total: 2 });
    const drawn = out.text.replace('\r', '').replace('\x1b[K', '');
    const inside = /▕(.*)▏/.exec(drawn)![1]!;
    const filled = [...inside].filter((c) => c === '█').length;
    assert.equal(filled * 2, [...inside].length);
    bar.finish();
    assert.ok(out.text.endsWith('\n'));
  });
});

test('formatting helpers', () => {
  assert.equal(formatRate(0.25), '4.00 it/s');
  assert.equal(formatRate(2.5), '2.5 s/it');
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatValue(0.123456), '0.1235');
  assert.equal(formatValue(12), '12');
  assert.equal(formatValue(1.5e-5), '1.50e-5');
  assert.equal(formatValue('cosine'), 'cosine');
});
