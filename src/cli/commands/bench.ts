/**
 * `tessera bench`: measures the kernels, engine, models and generation pipeline on this machine and prints the
 * figures with their targets — a table, or one JSON object on stdout with --json. Progress goes to stderr.
 */
import { Option, type Command } from 'commander';

interface BenchFlags {
  json?: boolean;
  only?: string;
  quick?: boolean;
  quiet?: boolean;
  tiny?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the kernels, engine, models and generation on this machine (a table, or JSON with --json)')
    .option('--json', 'print one JSON object on stdout')
    .option('--only <names>', 'comma-separated subset of gemm, engine, models, pipeline')
    .option('--quick', 'fewer repetitions: quicker, noisier figures')
    .option('--quiet', 'no progress line')
    // Tiny sizes and single runs: exercises every code path in seconds (tests); the figures mean nothing.
    .addOption(new Option('--tiny').hideHelp())
    .action(async (flags: BenchFlags) => {
      const { collectBenchmarks, formatBenchTable, parseSuites, tinyBenchSettings } = await import('../../bench/index.js');
      const { createProgressBar } = await import('../progress-bar.js');
      const only = flags.only !== undefined ? parseSuites(flags.only) : undefined;
      const bar = createProgressBar({ quiet: flags.quiet });
      let report;
      try {
        report = await collectBenchmarks({
          only, quick: !!flags.quick, settings: flags.tiny ? tinyBenchSettings() : undefined, onProgress: bar.onProgress,
        });
      } finally {
        bar.finish();
      }
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatBenchTable(report));
    });
}
