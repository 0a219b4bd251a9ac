import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DeadLetterGroupView } from '@taskq/contracts';
import { Empty, QueryView, describeError } from '../components/page-state';
import { TimeText } from '../components/time-text';
import { Notice, type NoticeState } from '../components/notice';
import { useSession } from '../session/session-context';

function GroupTasks({ group, onNotice }: { group: DeadLetterGroupView; onNotice: (notice: NoticeState) => void }): ReactNode {
  const { client, can } = useSession();
  const queries = useQueryClient();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  // A group without a message is listed by type and picked out here (an empty filter would match every error).
  const tasks = useQuery({
    queryKey: ['dlq', 'tasks', group.type, group.error],
    queryFn: async () => {
      const page = await client.dlq.list({ type: group.type, ...(group.error === null ? {} : { error: group.error }), limit: 100 });
      return group.error === null ? { ...page, items: page.items.filter((task) => task.lastError === null) } : page;
    },
  });
  const act = useMutation({
    mutationFn: async ({ ids, action }: { ids: string[]; action: 'requeue' | 'delete' }) => {
      for (const id of ids) await (action === 'requeue' ? client.dlq.requeue(id) : client.dlq.delete(id));
      return { count: ids.length, action };
    },
    onSuccess: ({ count, action }) => {
      onNotice({ error: false, text: `${action === 'requeue' ? 'Requeued' : 'Deleted'} ${count} task${count === 1 ? '' : 's'}.` });
      setSelected(new Set());
      void queries.invalidateQueries({ queryKey: ['dlq'] });
    },
    onError: (error) => onNotice({ error: true, text: describeError(error) }),
  });
  const admin = can('admin');
  return (
    <QueryView query={tasks} what="the group's tasks">
      {(page) => (
        <div>
          {admin ? (
            <div className="actions" style={{ margin: '0.5rem 0' }}>
              <button type="button" disabled={selected.size === 0 || act.isPending} onClick={() => act.mutate({ ids: [...selected], action: 'requeue' })}>
                Requeue selected ({selected.size})
              </button>
              <button type="button" className="danger" disabled={selected.size === 0 || act.isPending} onClick={() => act.mutate({ ids: [...selected], action: 'delete' })}>
                Delete selected ({selected.size})
              </button>
            </div>
          ) : null}
          <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label={`Dead ${group.type} tasks`}>
            {page.items.map((task) => (
              <li key={task.id} className="actions" style={{ padding: '0.2rem 0' }}>
                {admin ? (
                  <input
                    type="checkbox"
                    style={{ width: 'auto' }}
                    aria-label={`Select ${task.id}`}
                    checked={selected.has(task.id)}
                    onChange={(event) => {
                      const next = new Set(selected);
                      if (event.target.checked) next.add(task.id);
                      else next.delete(task.id);
                      setSelected(next);
                    }}
                  />
                ) : null}
                <Link to={`/tasks/${task.id}`} className="mono">
                  {task.id}
                </Link>
                <span>
                  died <TimeText iso={task.finishedAt} />
                </span>
                {admin ? (
                  <>
                    <button type="button" disabled={act.isPending} onClick={() => act.mutate({ ids: [task.id], action: 'requeue' })} aria-label={`Requeue ${task.id}`}>
                      Requeue
                    </button>
                    <button type="button" disabled={act.isPending} onClick={() => act.mutate({ ids: [task.id], action: 'delete' })} aria-label={`Delete ${task.id}`}>
                      Delete
                    </button>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
          {page.nextCursor ? <p>Showing the newest 100: act on the whole group to reach the rest.</p> : null}
        </div>
      )}
    </QueryView>
  );
}

function GroupRow({ group, index, onNotice }: { group: DeadLetterGroupView; index: number; onNotice: (notice: NoticeState) => void }): ReactNode {
  const { client, can } = useSession();
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const filter = { type: group.type, error: group.error ?? undefined };
  const whole = useMutation({
    mutationFn: (action: 'requeue' | 'delete') => (action === 'requeue' ? client.dlq.requeueAll(filter) : client.dlq.clear(filter)).then((answer) => ({ action, count: answer.count })),
    onSuccess: ({ action, count }) => {
      onNotice({ error: false, text: `${action === 'requeue' ? 'Requeued' : 'Deleted'} ${count} task${count === 1 ? '' : 's'} of the group.` });
      void queries.invalidateQueries({ queryKey: ['dlq'] });
    },
    onError: (error) => onNotice({ error: true, text: describeError(error) }),
  });
  return (
    <>
      <tr data-group={`${group.type}:${group.error ?? ''}`}>
        <td>{group.type}</td>
        <td style={{ overflowWrap: 'anywhere' }}>{group.error ?? <em>no message</em>}</td>
        <td>{group.count}</td>
        <td className="hide-narrow">
          <TimeText iso={group.lastDiedAt} />
        </td>
        <td>
          <div className="actions">
            <button type="button" aria-expanded={open} aria-controls={`group-${index}`} onClick={() => setOpen(!open)}>
              {open ? 'Hide tasks' : 'Show tasks'}
            </button>
            {can('admin') && group.error !== null ? (
              <>
                <button type="button" className="primary" disabled={whole.isPending} onClick={() => whole.mutate('requeue')}>
                  Requeue all {group.count}
                </button>
                <button type="button" className="danger" disabled={whole.isPending} onClick={() => whole.mutate('delete')}>
                  Delete all {group.count}
                </button>
              </>
            ) : null}
          </div>
        </td>
      </tr>
      {open ? (
        <tr id={`group-${index}`}>
          <td colSpan={5}>
            <GroupTasks group={group} onNotice={onNotice} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function DeadLettersPage(): ReactNode {
  const { client } = useSession();
  const [notice, setNotice] = useState<NoticeState>(null);
  const groups = useQuery({ queryKey: ['dlq', 'groups'], queryFn: () => client.dlq.groups() });
  return (
    <>
      <h1>Dead letters</h1>
      <Notice notice={notice} />
      <QueryView query={groups} what="dead letters">
        {(data) =>
          data.length === 0 ? (
            <Empty>No dead tasks. Tasks whose attempts are spent land here.</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label="Dead tasks by type and error">
                <thead>
                  <tr>
                    <th scope="col">Type</th>
                    <th scope="col">Error</th>
                    <th scope="col">Tasks</th>
                    <th scope="col" className="hide-narrow">
                      Last death
                    </th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {data.map((group, index) => (
                    <GroupRow key={`${group.type}:${group.error ?? ''}`} group={group} index={index} onNotice={setNotice} />
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </>
  );
}
