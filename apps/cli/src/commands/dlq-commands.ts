import type { Command } from 'commander';
import { UsageError } from '../exit-codes';
import { contextOf } from './context';
import { integerArgument } from './payload-argument';
import { summaryRows } from './task-commands';

/** `taskq dlq list|requeue|clear` (admin keys). */
export function addDeadLetterCommands(program: Command): void {
  const dlq = program.command('dlq').description('the dead-letter queue (admin keys)');

  dlq
    .command('list')
    .description('dead tasks, most recent first')
    .option('--type <type>', 'one task type')
    .option('--limit <n>', 'rows to show (at most 100)', integerArgument('--limit'), 20)
    .action(async (options: { type?: string; limit: number }, command: Command) => {
      const { client, out } = contextOf(command);
      const page = await client().dlq.list({ type: options.type, limit: Math.max(1, Math.min(100, options.limit)) });
      out.result(page.items, () => (page.items.length === 0 ? 'the dead-letter queue is empty' : summaryRows(page.items)));
    });

  dlq
    .command('requeue [id]')
    .description('run a dead task again (or every one with --all, of --type)')
    .option('--all', 'every dead task (of --type)')
    .option('--type <type>', 'with --all: only this type')
    .action(async (id: string | undefined, options: { all?: boolean; type?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      if (id && options.all) throw new UsageError('give a task id or --all, not both');
      if (id) {
        const task = await client().dlq.requeue(id);
        return out.result(task, () => `${task.id} ${task.status}`);
      }
      if (!options.all) throw new UsageError('give a task id, or --all to requeue every dead task');
      const { count } = await client().dlq.requeueAll({ type: options.type });
      out.result({ count }, () => `requeued ${count} task(s)`);
    });

  dlq
    .command('clear')
    .description('delete dead tasks for good (of --type, or finished before --before)')
    .option('--type <type>', 'only this type')
    .option('--before <iso>', 'only tasks that died before this time')
    .action(async (options: { type?: string; before?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const { count } = await client().dlq.clear({ type: options.type, to: options.before });
      out.result({ count }, () => `deleted ${count} dead task(s)`);
    });
}
