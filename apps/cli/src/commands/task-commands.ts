import type { Command } from 'commander';
import type { ListQuery, TaskSummaryView } from '@taskq/client';
import { table } from '../output';
import { contextOf } from './context';
import { integerArgument, payloadArgument } from './payload-argument';
import { watchTask } from './watch-task';

/** Tasks as the list commands show them. */
export const summaryRows = (tasks: TaskSummaryView[]): string =>
  table(
    ['id', 'type', 'status', 'attempts', 'created', 'finished', 'error'],
    tasks.map((t) => [t.id, t.type, t.status, t.attemptsMade, t.createdAt, t.finishedAt, t.lastError?.slice(0, 60)]),
  );

/** types, submit, get, list, watch, retry, cancel. */
export function addTaskCommands(program: Command): void {
  program
    .command('types')
    .description('the registered task types')
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const types = await client().types();
      out.result(types, () => table(['type', 'attempts', 'timeout ms', 'concurrency', 'description'], types.map((t) => [t.type, t.defaults.attempts, t.defaults.timeoutMs, t.defaults.concurrency, t.description])));
    });

  program
    .command('submit <type>')
    .description('submit a task (202: committed and queued)')
    .option('-p, --payload <json|@file>', 'the payload: JSON, or @file.json')
    .option('--priority <n>', '1 (most urgent) … 1000', integerArgument('--priority'))
    .option('--delay <ms>', 'run no earlier than this many ms from now', integerArgument('--delay'))
    .option('--run-at <iso>', 'run no earlier than this time')
    .option('--max-attempts <n>', 'attempts in all', integerArgument('--max-attempts'))
    .option('--timeout <ms>', 'per-attempt deadline', integerArgument('--timeout'))
    .option('--callback-url <url>', 'POSTed the task once it is completed, dead or cancelled')
    .option('--idempotency-key <key>', 'same key and body: the original task (default: a random key)')
    .option('-w, --wait', 'follow the task to its end (exit 3 if dead, 4 if cancelled)')
    .action(async (type: string, options: Record<string, string | number | boolean | undefined>, command: Command) => {
      const { client, out, exit } = contextOf(command);
      const submitted = await client().submitUnchecked(type, payloadArgument(options['payload'] as string | undefined), {
        priority: options['priority'] as number | undefined,
        delayMs: options['delay'] as number | undefined,
        runAt: options['runAt'] as string | undefined,
        maxAttempts: options['maxAttempts'] as number | undefined,
        timeoutMs: options['timeout'] as number | undefined,
        callbackUrl: options['callbackUrl'] as string | undefined,
        idempotencyKey: options['idempotencyKey'] as string | undefined,
      });
      if (!options['wait']) return out.result(submitted, () => `${submitted.id} ${submitted.status}`);
      if (!out.json) out.info(`${submitted.id} ${submitted.status}`);
      exit(await watchTask(client(), submitted.id, out));
    });

  program
    .command('get <id>')
    .description('a task: status, payload, result, attempts, progress, callback')
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      out.result(await client().get(id));
    });

  program
    .command('list')
    .description('tasks, newest first')
    .option('--status <status>', 'queued, delayed, active, retrying, completed, dead or cancelled')
    .option('--type <type>', 'one task type')
    .option('--limit <n>', 'rows to show (follows the cursor pages)', integerArgument('--limit'), 20)
    .action(async (options: { status?: string; type?: string; limit: number }, command: Command) => {
      const { client, out } = contextOf(command);
      const tasks: TaskSummaryView[] = [];
      if (options.limit > 0) {
        const query: ListQuery = { status: options.status as ListQuery['status'], type: options.type, limit: Math.min(100, options.limit) };
        for await (const task of client().list(query)) {
          tasks.push(task);
          if (tasks.length >= options.limit) break;
        }
      }
      out.result(tasks, () => (tasks.length === 0 ? 'no tasks' : summaryRows(tasks)));
    });

  program
    .command('watch <id>')
    .description("a task's live progress, then its result (exit 3 if dead, 4 if cancelled)")
    .action(async (id: string, _options, command: Command) => {
      const { client, out, exit } = contextOf(command);
      exit(await watchTask(client(), id, out));
    });

  program
    .command('retry <id>')
    .description('run a dead or cancelled task again, with a fresh attempt budget')
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const task = await client().retry(id);
      out.result(task, () => `${task.id} ${task.status}`);
    });

  program
    .command('cancel <id>')
    .description('cancel a task that has not finished')
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const task = await client().cancel(id);
      out.result(task, () => `${task.id} ${task.status} (was ${task.previousStatus})`);
    });
}

