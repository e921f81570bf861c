import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';

export function registerTrain(program: Command): void {
  program
    .command('train <task>')
    .description('train the VAE (vae) or the diffusion transformer and text encoder (dit); resumes from the last checkpoint')
    .requiredOption('--config <file>', 'run config (JSON), e.g. configs/vae-world.json')
    .option('--max-minutes <m>', 'stop cleanly (with a checkpoint) after this many minutes')
    .option('--steps <n>', 'stop at this step (the schedule still follows the config)')
    .option('--quiet', 'no progress bar')
    .option('--print-config', 'print the config as it will run (defaults filled in, "extends" resolved) and exit')
    .action(async (taskName: string, flags: { config: string; maxMinutes?: string; steps?: string; quiet?: boolean; printConfig?: boolean }) => {
      if (taskName !== 'vae' && taskName !== 'dit') throw invalidArgument('task', `expected vae or dit, got ${JSON.stringify(taskName)}`);
      const { readTrainConfig } = await import('../../train/config.js');
      const { runTraining } = await import('../../train/run.js');
      const { createProgressBar } = await import('../progress-bar.js');
      const config = await readTrainConfig(flags.config);
      if (config.task !== taskName) throw invalidArgument('--config', `${flags.config} is a ${config.task} config, not ${taskName}`);
      if (flags.printConfig) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      if (flags.maxMinutes !== undefined) {
        const m = Number(flags.maxMinutes);
        if (!(m > 0)) throw invalidArgument('--max-minutes', `expected a positive number, got ${JSON.stringify(flags.maxMinutes)}`);
        config.maxMinutes = m;
      }
      let stopAtStep: number | undefined;
      if (flags.steps !== undefined) {
        stopAtStep = Number(flags.steps);
        if (!Number.isInteger(stopAtStep) || stopAtStep < 1) throw invalidArgument('--steps', `expected a positive integer, got ${JSON.stringify(flags.steps)}`);
      }
      const controller = new AbortController();
      const stop = () => {
        process.stderr.write('\ntessera: stopping after this step (a checkpoint will be written)\n');
        controller.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const bar = createProgressBar({ quiet: !!flags.quiet });
      try {
        const result = await runTraining(config, { onProgress: bar.onProgress, signal: controller.signal, stopAtStep });
        bar.finish();
        process.stderr.write(`tessera: ${taskName} training stopped at step ${result.step} (${result.stoppedBy}); ${result.samplesSeen} samples seen; checkpoint and export in ${config.runDir}\n`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
