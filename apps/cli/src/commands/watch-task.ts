import { SingleBar } from 'cli-progress';
import type { TaskProgress, TaskqClient, TaskView } from '@taskq/client';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';

const percentOf = (progress: TaskProgress): number | undefined => (typeof progress === 'number' ? progress : undefined);

/**
 * Follows a task to its end: a progress bar on a terminal (plain lines otherwise), then its
 * result. The exit code says how it ended (completed 0, dead 3, cancelled 4; Ctrl-C 130).
 */
export async function watchTask(client: TaskqClient, id: string, out: Output): Promise<number> {
  const controller = new AbortController();
  const interrupt = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  const bar = process.stderr.isTTY && !out.json ? new SingleBar({ format: ' {bar} {percentage}% | {detail}', hideCursor: true, stream: process.stderr }) : undefined;
  bar?.start(100, 0, { detail: 'waiting' });
  let task: TaskView;
  try {
    task = await client.wait(id, {
      signal: controller.signal,
      onProgress: (progress) => {
        const percent = percentOf(progress);
        if (bar) bar.update(percent ?? 0, { detail: percent === undefined ? JSON.stringify(progress) : '' });
        else if (!out.json) out.info(`progress ${typeof progress === 'number' ? progress : JSON.stringify(progress)}`);
      },
    });
  } catch (error) {
    bar?.stop();
    if (controller.signal.aborted) {
      out.info(`stopped watching task ${id} (it goes on)`);
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
  if (task.status === 'completed') bar?.update(100, { detail: '' });
  bar?.stop();
  out.result(task, () => `task ${task.id} ${task.status}${task.lastError && task.status !== 'completed' ? `: ${task.lastError}` : ''}\n${JSON.stringify(task.result, null, 2)}`);
  return task.status === 'dead' ? EXIT.dead : task.status === 'cancelled' ? EXIT.cancelled : EXIT.ok;
}
