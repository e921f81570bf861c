// Runs a commander program so that every failure is one line on stderr and a non-zero exit, never a stack trace.
import type { Command } from 'commander';
import { isTesseraError } from '../errors.js';

export async function runCli(program: Command, argv: string[]): Promise<void> {
  // commands registered before this point do not inherit the override: apply it to the whole tree
  const override = (c: Command) => {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => process.stderr.write(s) });
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // help and version exit 0; usage errors were already printed by commander
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : 2;
      return;
    }
    if (isTesseraError(e)) {
      process.stderr.write(`tessera: ${e.message}\n`);
      process.exitCode = e.code === 'aborted' ? 130 : 1;
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`tessera: internal error: ${msg}\n`);
    if (process.env.TESSERA_DEBUG) console.error(e);
    process.exitCode = 1;
  }
}
