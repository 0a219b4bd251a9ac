import type { Command } from 'commander';
import type { TaskqClient } from '@taskq/client';
import { clientOf, type GlobalOptions } from '../cli-config';
import { outputOf, type Output } from '../output';

/** What a command's action works with: the client and the output, from the global options. */
export interface CommandContext {
  client: () => TaskqClient;
  out: Output;
  /** Sets the process's exit code (commander actions return nothing). */
  exit: (code: number) => void;
}

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    client: () => clientOf(options),
    out: outputOf(options.json === true),
    exit: (code) => {
      process.exitCode = code;
    },
  };
}
