import { useCallback, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TaskView } from '@taskq/contracts';
import { AttemptsTimeline } from '../components/attempts-timeline';
import { JsonView } from '../components/json-view';
import { Notice, type NoticeState } from '../components/notice';
import { QueryView, describeError } from '../components/page-state';
import { ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { TimeText, formatDuration } from '../components/time-text';
import { useTaskEventSource } from '../components/use-task-event-source';
import { useSession } from '../session/session-context';

const TERMINAL = new Set(['completed', 'dead', 'cancelled']);
const RETRYABLE = new Set(['dead', 'cancelled']);

function Facts({ task }: { task: TaskView }): ReactNode {
  return (
    <dl className="facts">
      <dt>Id</dt>
      <dd className="mono">{task.id}</dd>
      <dt>Type</dt>
      <dd>{task.type}</dd>
      <dt>Status</dt>
      <dd>
        <StatusBadge status={task.status} />
      </dd>
      <dt>Tenant</dt>
      <dd>{task.tenant}</dd>
      <dt>Attempts</dt>
      <dd>
        {task.attemptsMade} made, budget {task.maxAttempts}
      </dd>
      <dt>Priority</dt>
      <dd>{task.priority ?? 'none'}</dd>
      <dt>Timeout</dt>
      <dd>{formatDuration(task.timeoutMs)}</dd>
      <dt>Idempotency key</dt>
      <dd className="mono">{task.idempotencyKey ?? '—'}</dd>
      <dt>Schedule</dt>
      <dd>{task.scheduleName ? <Link to={`/tasks?schedule=${encodeURIComponent(task.scheduleName)}`}>{task.scheduleName}</Link> : '—'}</dd>
      <dt>Created</dt>
      <dd>
        <TimeText iso={task.createdAt} />
      </dd>
      <dt>Runs at</dt>
      <dd>
        <TimeText iso={task.runAt} />
      </dd>
      <dt>Started</dt>
      <dd>
        <TimeText iso={task.startedAt} />
      </dd>
      <dt>Finished</dt>
      <dd>
        <TimeText iso={task.finishedAt} />
      </dd>
      {task.nextAttemptAt ? (
        <>
          <dt>Next attempt</dt>
          <dd>
            <TimeText iso={task.nextAttemptAt} />
          </dd>
        </>
      ) : null}
      <dt>Callback</dt>
      <dd>{task.callbackUrl ? `${task.callbackUrl}${task.callback ? ` (${task.callback.status}, ${task.callback.attempts} tries)` : ''}` : '—'}</dd>
    </dl>
  );
}

function TaskActions({ task }: { task: TaskView }): ReactNode {
  const { client, can } = useSession();
  const queries = useQueryClient();
  const [message, setMessage] = useState<NoticeState>(null);
  const done = (text: string) => (): void => {
    setMessage({ error: false, text });
    void queries.invalidateQueries({ queryKey: ['task', task.id] });
  };
  const failed = (error: unknown): void => setMessage({ error: true, text: describeError(error) });
  const retry = useMutation({ mutationFn: () => client.retry(task.id), onSuccess: done('Queued again: it runs with a fresh attempt budget.'), onError: failed });
  const cancel = useMutation({ mutationFn: () => client.cancel(task.id), onSuccess: done('Cancelled.'), onError: failed });
  if (!can('tasks:write')) return null;
  const busy = retry.isPending || cancel.isPending;
  return (
    <div>
      <div className="actions" style={{ marginBottom: '0.75rem' }}>
        {RETRYABLE.has(task.status) ? (
          <button type="button" className="primary" onClick={() => retry.mutate()} disabled={busy}>
            Retry
          </button>
        ) : null}
        {!TERMINAL.has(task.status) ? (
          <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={busy}>
            Cancel
          </button>
        ) : null}
      </div>
      <Notice notice={message} />
    </div>
  );
}

function boardLink(task: TaskView, queue: string | undefined): string | undefined {
  // Finished jobs leave Redis (PostgreSQL keeps the history); a dead task's job stays failed there.
  if (!queue || task.status === 'completed' || task.status === 'cancelled') return undefined;
  return `/admin/queues/queue/${encodeURIComponent(`{${queue}}`)}/${encodeURIComponent(task.id)}`;
}

function Task({ task }: { task: TaskView }): ReactNode {
  const { client } = useSession();
  const types = useQuery({ queryKey: ['task-types'], queryFn: () => client.types(), staleTime: Infinity });
  const board = boardLink(task, types.data?.find((type) => type.type === task.type)?.queue);
  return (
    <>
      <div className="actions" style={{ justifyContent: 'space-between', marginBottom: '1rem' }}>
        <TaskActions task={task} />
        {board ? (
          <a href={board} target="_blank" rel="noreferrer">
            Open its job in Bull Board
          </a>
        ) : null}
      </div>
      {task.status === 'active' || task.progress !== null ? (
        <section className="panel" aria-labelledby="progress-heading">
          <h2 id="progress-heading" style={{ marginTop: 0 }}>
            Progress
          </h2>
          <ProgressBar progress={task.progress} label="Task progress" />
        </section>
      ) : null}
      <div className="grid">
        <section className="panel" aria-labelledby="facts-heading">
          <h2 id="facts-heading" style={{ marginTop: 0 }}>
            Details
          </h2>
          <Facts task={task} />
        </section>
        <section className="panel" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading" style={{ marginTop: 0 }}>
            {task.lastError ? 'Last error' : 'Result'}
          </h2>
          {task.lastError ? <p className="notice error">{task.lastError}</p> : null}
          <JsonView value={task.result} label="Result" />
          <h2>Payload</h2>
          <JsonView value={task.payload} label="Payload" />
        </section>
      </div>
      <section className="panel" aria-labelledby="attempts-heading">
        <h2 id="attempts-heading" style={{ marginTop: 0 }}>
          Attempts
        </h2>
        <AttemptsTimeline attempts={task.attempts} />
      </section>
    </>
  );
}

export function TaskPage(): ReactNode {
  const { id = '' } = useParams();
  const { client } = useSession();
  const queries = useQueryClient();
  const task = useQuery({ queryKey: ['task', id], queryFn: () => client.get(id) });
  // Live while it runs: each event re-reads the task (status, progress, attempts).
  const finished = task.data !== undefined && TERMINAL.has(task.data.status);
  const refresh = useCallback(() => void queries.invalidateQueries({ queryKey: ['task', id] }), [queries, id]);
  useTaskEventSource(`/tasks/${encodeURIComponent(id)}/events`, refresh, task.data !== undefined && !finished);
  return (
    <>
      <p>
        <Link to="/tasks">← Tasks</Link>
      </p>
      <h1>
        Task <span className="mono">{id}</span>
      </h1>
      <QueryView query={task} what="the task">
        {(data) => <Task task={data} />}
      </QueryView>
    </>
  );
}
