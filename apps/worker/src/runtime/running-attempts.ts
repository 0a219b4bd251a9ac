import { Injectable } from '@nestjs/common';
import { TaskInterruptedError } from './attempt-execution';

/** The attempts this process runs right now, so a cancellation can reach the right one, and the worker's stop. */
@Injectable()
export class RunningAttempts {
  private readonly running = new Map<string, AbortController>();
  private readonly stop = new AbortController();

  /** Fires at the shutdown deadline: writes waiting for PostgreSQL give up soon after, and hand their jobs back. */
  get stopping(): AbortSignal {
    return this.stop.signal;
  }

  /** Registers a task's attempt; call the returned function when it ends. */
  start(taskId: string): { signal: AbortSignal; end: () => void } {
    const controller = new AbortController();
    this.running.set(taskId, controller);
    return { signal: controller.signal, end: () => this.running.get(taskId) === controller && this.running.delete(taskId) };
  }

  /** Shutdown deadline: stops every running attempt and hands it back to the queue. */
  interruptAll(): number {
    this.stop.abort();
    const controllers = [...this.running.values()];
    for (const controller of controllers) controller.abort(new TaskInterruptedError());
    return controllers.length;
  }

  /** Aborts the task's attempt if this process runs it; true when it did. */
  cancel(taskId: string): boolean {
    const controller = this.running.get(taskId);
    controller?.abort();
    return controller !== undefined;
  }
}
