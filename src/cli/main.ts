// The `tessera` command. Each command lives in commands/<name>.ts and registers itself on the program.
import { Command } from 'commander';
import { runCli } from './run.js';
import { registerBench } from './commands/bench.js';
import { registerGenerate } from './commands/generate.js';
import { registerTrain } from './commands/train.js';
import { registerExport } from './commands/export.js';
import { registerWorld } from './commands/world.js';
import { registerEval } from './commands/eval.js';
import { registerServe, registerWorker } from './commands/serve.js';

const program = new Command('tessera')
  .description('Tessera: text-to-video with a spacetime-patch diffusion transformer, in TypeScript')
  .version('0.1.0');

registerGenerate(program);
registerTrain(program);
registerExport(program);
registerWorld(program);
registerEval(program);
registerServe(program);
registerWorker(program);
registerBench(program);

await runCli(program, process.argv);
