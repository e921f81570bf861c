import type { Command } from 'commander';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the engine and models on this machine (JSON with --json, a table otherwise)')
    .option('--json', 'print one JSON object')
    .option('--only <names>', 'comma-separated subset of benchmarks')
    .action(async (opts: { json?: boolean; only?: string }) => {
      const { runBenchmarks } = await import('../../bench/index.js');
      await runBenchmarks({ json: !!opts.json, only: opts.only?.split(',') });
    });
}
