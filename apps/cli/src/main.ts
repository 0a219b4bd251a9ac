import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { addDeadLetterCommands } from './commands/dlq-commands';
import { addKeyCommands } from './commands/key-commands';
import { addScheduleCommands } from './commands/schedule-commands';
import { addTaskCommands } from './commands/task-commands';
import { EXIT } from './exit-codes';
import { reportError } from './output';

/** `taskq`: the command-line client of the taskq API (docs/cli.md). */
export function cliProgram(): Command {
  const program = new Command('taskq')
    .description('the taskq command line: submit, watch and manage tasks')
    .version('0.1.0')
    .option('--url <url>', 'the API (default TASKQ_URL, else http://127.0.0.1:3000)')
    .option('--key <key>', 'the API key (default TASKQ_KEY, else the development key of npm start)')
    .option('--json', 'machine-readable output: results as JSON on stdout, problems as JSON on stderr')
    .showHelpAfterError()
    .exitOverride();
  addTaskCommands(program);
  addDeadLetterCommands(program);
  addScheduleCommands(program);
  addKeyCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = cliProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return reportError(error, program.opts<{ json?: boolean }>().json === true);
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
