import Table from 'cli-table3';
import { TaskqError, TaskqNetworkError } from '@taskq/client';
import { EXIT, UsageError } from './exit-codes';

/** Where a command writes: stdout for results, stderr for errors and progress. */
export interface Output {
  json: boolean;
  /** A result: pretty JSON with --json, else `human`'s text. */
  result(value: unknown, human?: () => string): void;
  info(line: string): void;
}

export function outputOf(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json || !human ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    info(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}

export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  return t.toString();
}

/** One line on stderr (the problem document with --json), and the exit code it means. */
export function reportError(error: unknown, json: boolean): number {
  if (error instanceof TaskqError) {
    if (json) process.stderr.write(`${JSON.stringify(error.problem)}\n`);
    else process.stderr.write(`taskq: ${error.status} ${error.message}\n`);
    return EXIT.failed;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`taskq: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof TaskqNetworkError) {
    process.stderr.write(`taskq: cannot reach the API: ${error.message}\n`);
    return EXIT.failed;
  }
  process.stderr.write(`taskq: ${(error as Error)?.message ?? String(error)}\n`);
  return EXIT.failed;
}
