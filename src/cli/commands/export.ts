import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';

/** `tessera export`: re-saves a model folder (e.g. a training run's export/) at another precision, e.g. for shipping. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('copy a model folder, converting its weights (e.g. a training export to the float16 bundled model)')
    .requiredOption('--from <dir>', 'source model folder (e.g. runs/dit-world/export)')
    .requiredOption('--to <dir>', 'destination model folder (e.g. models/tessera-world)')
    .option('--dtype <type>', 'f32, f16 or bf16', 'f16')
    .action(async (flags: { from: string; to: string; dtype: string }) => {
      const dtypes = { f32: 'F32', f16: 'F16', bf16: 'BF16' } as const;
      const dtype = dtypes[flags.dtype.toLowerCase() as keyof typeof dtypes];
      if (!dtype) throw invalidArgument('--dtype', `expected f32, f16 or bf16, got ${JSON.stringify(flags.dtype)}`);
      const { exportModelFolder } = await import('../../pipelines/folder.js');
      const bytes = await exportModelFolder(flags.from, flags.to, dtype);
      process.stderr.write(`tessera: wrote ${flags.to} (${(bytes / 1e6).toFixed(1)} MB of weights, ${flags.dtype})\n`);
    });
}
