import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateScheduleBody } from '@taskq/client';
import type { ScheduleView, TaskType } from '@taskq/contracts';
import { Empty, QueryView, describeError } from '../components/page-state';
import { TimeText } from '../components/time-text';
import { Notice, type NoticeState } from '../components/notice';
import { useSession } from '../session/session-context';

/** The form's fields; the payload is JSON text until it is sent. */
interface ScheduleForm {
  name: string;
  cron: string;
  tz: string;
  type: string;
  payload: string;
}

function parsePayload(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text || '{}');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('The payload must be a JSON object.');
  return value as Record<string, unknown>;
}

function ScheduleEditor({ initial, editing, onDone, onNotice }: { initial: ScheduleForm; editing: boolean; onDone: () => void; onNotice: (notice: NoticeState) => void }): ReactNode {
  const { client } = useSession();
  const queries = useQueryClient();
  const types = useQuery({ queryKey: ['task-types'], queryFn: () => client.types(), staleTime: Infinity });
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (form: ScheduleForm) => {
      const body = { cron: form.cron, tz: form.tz || null, type: form.type as TaskType, payload: parsePayload(form.payload) };
      return editing ? client.schedules.update(initial.name, body) : client.schedules.create({ ...body, name: form.name } satisfies CreateScheduleBody);
    },
    onSuccess: (schedule) => {
      onNotice({ error: false, text: `Schedule ${schedule.name} ${editing ? 'saved' : 'created'}.` });
      void queries.invalidateQueries({ queryKey: ['schedules'] });
      onDone();
    },
    onError: (error) => setProblem(describeError(error)),
  });
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const field = (name: keyof ScheduleForm): string => String(data.get(name) ?? '').trim();
    setProblem(null);
    save.mutate({ name: editing ? initial.name : field('name'), cron: field('cron'), tz: field('tz'), type: field('type'), payload: field('payload') });
  };
  const prefix = editing ? `edit-${initial.name}` : 'new';
  return (
    <form className="panel" onSubmit={submit} aria-label={editing ? `Edit schedule ${initial.name}` : 'New schedule'}>
      <div className="form-grid">
        {editing ? null : (
          <div>
            <label htmlFor={`${prefix}-name`}>Name</label>
            <input id={`${prefix}-name`} name="name" required defaultValue={initial.name} />
          </div>
        )}
        <div>
          <label htmlFor={`${prefix}-cron`}>Cron expression</label>
          <input id={`${prefix}-cron`} name="cron" required defaultValue={initial.cron} placeholder="*/5 * * * *" />
        </div>
        <div>
          <label htmlFor={`${prefix}-tz`}>Time zone (IANA, empty: UTC)</label>
          <input id={`${prefix}-tz`} name="tz" defaultValue={initial.tz} placeholder="Europe/Paris" />
        </div>
        <div>
          <label htmlFor={`${prefix}-type`}>Task type</label>
          <select id={`${prefix}-type`} name="type" defaultValue={initial.type} required>
            {(types.data ?? []).map((type) => (
              <option key={type.type}>{type.type}</option>
            ))}
          </select>
        </div>
      </div>
      <div style={{ marginTop: '0.75rem' }}>
        <label htmlFor={`${prefix}-payload`}>Payload (JSON)</label>
        <textarea id={`${prefix}-payload`} name="payload" defaultValue={initial.payload} className="mono" />
      </div>
      {problem ? (
        <p className="notice error" role="alert" style={{ marginTop: '0.75rem' }}>
          {problem}
        </p>
      ) : null}
      <div className="actions" style={{ marginTop: '0.75rem' }}>
        <button type="submit" className="primary" disabled={save.isPending}>
          {editing ? 'Save' : 'Create schedule'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ScheduleRow({ schedule, onNotice }: { schedule: ScheduleView; onNotice: (notice: NoticeState) => void }): ReactNode {
  const { client } = useSession();
  const queries = useQueryClient();
  const [editing, setEditing] = useState(false);
  const act = useMutation({
    mutationFn: async (action: 'pause' | 'resume' | 'run' | 'delete'): Promise<string> => {
      if (action === 'pause') await client.schedules.pause(schedule.name);
      if (action === 'resume') await client.schedules.resume(schedule.name);
      if (action === 'delete') await client.schedules.delete(schedule.name);
      if (action === 'run') return `Schedule ${schedule.name} ran now: task ${(await client.schedules.run(schedule.name)).id}.`;
      return `Schedule ${schedule.name} ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'deleted'}.`;
    },
    onSuccess: (text) => {
      onNotice({ error: false, text });
      void queries.invalidateQueries({ queryKey: ['schedules'] });
    },
    onError: (error) => onNotice({ error: true, text: describeError(error) }),
  });
  return (
    <>
      <tr data-schedule={schedule.name}>
        <td>
          <Link to={`/tasks?schedule=${encodeURIComponent(schedule.name)}`}>{schedule.name}</Link>
        </td>
        <td className="mono">
          {schedule.cron}
          {schedule.tz ? ` (${schedule.tz})` : ''}
        </td>
        <td>{schedule.type}</td>
        <td>{schedule.enabled ? 'active' : 'paused'}</td>
        <td>
          <TimeText iso={schedule.nextRunAt} empty={schedule.enabled ? '—' : 'paused'} />
        </td>
        <td className="hide-narrow">
          <TimeText iso={schedule.lastRunAt} empty="never" />
        </td>
        <td>
          <div className="actions">
            <button type="button" disabled={act.isPending} onClick={() => act.mutate('run')}>
              Run now
            </button>
            {schedule.enabled ? (
              <button type="button" disabled={act.isPending} onClick={() => act.mutate('pause')}>
                Pause
              </button>
            ) : (
              <button type="button" disabled={act.isPending} onClick={() => act.mutate('resume')}>
                Resume
              </button>
            )}
            <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              Edit
            </button>
            <button type="button" className="danger" disabled={act.isPending} onClick={() => act.mutate('delete')}>
              Delete
            </button>
          </div>
        </td>
      </tr>
      {editing ? (
        <tr>
          <td colSpan={7}>
            <ScheduleEditor
              editing
              initial={{ name: schedule.name, cron: schedule.cron, tz: schedule.tz ?? '', type: schedule.type, payload: JSON.stringify(schedule.payload, null, 2) }}
              onDone={() => setEditing(false)}
              onNotice={onNotice}
            />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function SchedulesPage(): ReactNode {
  const { client } = useSession();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<NoticeState>(null);
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: () => client.schedules.list(), refetchInterval: 30_000 });
  return (
    <>
      <h1>Schedules</h1>
      <Notice notice={notice} />
      {creating ? (
        <ScheduleEditor editing={false} initial={{ name: '', cron: '*/5 * * * *', tz: '', type: 'noop', payload: '{}' }} onDone={() => setCreating(false)} onNotice={setNotice} />
      ) : (
        <p>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New schedule
          </button>
        </p>
      )}
      <QueryView query={schedules} what="schedules">
        {(list) =>
          list.length === 0 ? (
            <Empty>No schedules yet. A schedule submits a task each time its cron expression fires.</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label="Schedules">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Cron</th>
                    <th scope="col">Type</th>
                    <th scope="col">State</th>
                    <th scope="col">Next run</th>
                    <th scope="col" className="hide-narrow">
                      Last run
                    </th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((schedule) => (
                    <ScheduleRow key={schedule.name} schedule={schedule} onNotice={setNotice} />
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
