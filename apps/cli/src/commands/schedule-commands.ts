import type { Command } from 'commander';
import type { TaskType } from '@taskq/client';
import { table } from '../output';
import { contextOf } from './context';
import { payloadArgument } from './payload-argument';

/** `taskq schedules list|create|delete` (admin keys). */
export function addScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description('recurring tasks (admin keys)');

  schedules
    .command('list')
    .description('every schedule with its next run')
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const items = await client().schedules.list();
      out.result(items, () =>
        items.length === 0 ? 'no schedules' : table(['name', 'cron', 'tz', 'type', 'enabled', 'next run', 'last run'], items.map((s) => [s.name, s.cron, s.tz ?? 'UTC', s.type, s.enabled ? 'yes' : 'no', s.nextRunAt, s.lastRunAt])),
      );
    });

  schedules
    .command('create <name>')
    .description('a schedule that submits a task at every cron tick')
    .requiredOption('--cron <expression>', '5 fields, or 6 with seconds first')
    .requiredOption('--type <type>', 'the task type')
    .option('-p, --payload <json|@file>', 'the payload: JSON, or @file.json')
    .option('--tz <zone>', 'IANA time zone of the cron expression (default UTC)')
    .option('--callback-url <url>', 'completion callback of every task it creates')
    .option('--disabled', 'store it without running it')
    .action(async (name: string, options: { cron: string; type: string; payload?: string; tz?: string; callbackUrl?: string; disabled?: boolean }, command: Command) => {
      const { client, out } = contextOf(command);
      const schedule = await client().schedules.create({
        name,
        cron: options.cron,
        type: options.type as TaskType,
        payload: payloadArgument(options.payload),
        ...(options.tz ? { tz: options.tz } : {}),
        ...(options.callbackUrl ? { callbackUrl: options.callbackUrl } : {}),
        ...(options.disabled ? { enabled: false } : {}),
      });
      out.result(schedule, () => `created schedule ${schedule.name}; next run ${schedule.nextRunAt ?? '-'}`);
    });

  schedules
    .command('delete <name>')
    .description('delete a schedule (the tasks it created stay)')
    .action(async (name: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client().schedules.delete(name);
      out.result({ deleted: name }, () => `deleted schedule ${name}`);
    });
}
