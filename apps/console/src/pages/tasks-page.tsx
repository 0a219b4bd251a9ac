import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import type { TaskEvent, TaskPage } from '@taskq/contracts';
import { Empty, QueryView } from '../components/page-state';
import { ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { TimeText } from '../components/time-text';
import { useTaskEvents } from '../components/use-task-events';
import { useSession } from '../session/session-context';
import { FILTER_NAMES, TASK_STATUSES, filtersFrom, filtersOf, localInputToIso, type TaskFilters } from './task-filters';

const PAGE_SIZE = 50;
/** New tasks are fetched at most this often while events arrive. */
const REFRESH_AFTER_EVENTS_MS = 700;

function FilterForm({ filters, types, showTenant, onChange }: { filters: TaskFilters; types: string[]; showTenant: boolean; onChange: (filters: TaskFilters) => void }): ReactNode {
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    onChange(
      filtersFrom((name) => {
        const value = String(data.get(name) ?? '');
        return name === 'from' || name === 'to' ? localInputToIso(value) : value;
      }),
    );
  };
  const local = (iso: string | undefined): string => (iso ? new Date(Date.parse(iso) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter tasks" key={JSON.stringify(filters)}>
      <div>
        <label htmlFor="filter-q">Id or idempotency key</label>
        <input id="filter-q" name="q" type="search" defaultValue={filters.q} />
      </div>
      <div>
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" name="status" defaultValue={filters.status ?? ''}>
          <option value="">any</option>
          {TASK_STATUSES.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="filter-type">Type</label>
        <select id="filter-type" name="type" defaultValue={filters.type ?? ''}>
          <option value="">any</option>
          {types.map((type) => (
            <option key={type}>{type}</option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="filter-schedule">Schedule</label>
        <input id="filter-schedule" name="schedule" defaultValue={filters.schedule} />
      </div>
      <div>
        <label htmlFor="filter-from">Created from</label>
        <input id="filter-from" name="from" type="datetime-local" defaultValue={local(filters.from)} />
      </div>
      <div>
        <label htmlFor="filter-to">Created before</label>
        <input id="filter-to" name="to" type="datetime-local" defaultValue={local(filters.to)} />
      </div>
      {showTenant ? (
        <div>
          <label htmlFor="filter-tenant">Tenant</label>
          <input id="filter-tenant" name="tenant" defaultValue={filters.tenant} />
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary">
          Apply
        </button>
        <button type="button" onClick={() => onChange({})}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** Whether an event's task belongs in a list with these filters (as far as the event tells). */
function mayMatch(filters: TaskFilters, event: TaskEvent): boolean {
  if (filters.type && event.type !== filters.type) return false;
  if (filters.tenant && event.tenant !== filters.tenant) return false;
  if (filters.status && (event.kind !== 'status' || event.status !== filters.status)) return false;
  return !filters.q && !filters.schedule && !filters.to;
}

export function TasksPage(): ReactNode {
  const { client, view } = useSession();
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const filterKey = JSON.stringify(filters);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const types = useQuery({ queryKey: ['task-types'], queryFn: () => client.types(), staleTime: Infinity });
  const queryKey = ['tasks', filterKey];
  const pages = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => client.listPage({ ...filters, limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page: TaskPage) => page.nextCursor ?? undefined,
  });

  // Live: rows on the page change status at once; new tasks are fetched with the first page.
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(refresh.current), []);
  const onEvent = useCallback(
    (event: TaskEvent) => {
      let known = false;
      queries.setQueryData<InfiniteData<TaskPage>>(queryKey, (data) => {
        if (!data) return data;
        return {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            items: page.items.map((item) => {
              if (item.id !== event.taskId) return item;
              known = true;
              return event.kind === 'status' ? { ...item, status: event.status, lastError: event.error ?? item.lastError } : { ...item, progress: event.progress, progressUpdatedAt: event.at };
            }),
          })),
        };
      });
      if (known) {
        setFresh((current) => new Set(current).add(event.taskId));
        return;
      }
      if (event.kind !== 'status' || !mayMatch(filters, event)) return;
      refresh.current ??= setTimeout(() => {
        refresh.current = undefined;
        void queries.invalidateQueries({ queryKey });
      }, REFRESH_AFTER_EVENTS_MS);
      setFresh((current) => new Set(current).add(event.taskId));
    },
    // filterKey stands for filters and queryKey.
    [queries, filterKey],
  );
  useTaskEvents(onEvent, { type: filters.type });

  const setFilters = (next: TaskFilters): void => {
    const search = new URLSearchParams();
    for (const name of FILTER_NAMES) if (next[name]) search.set(name, next[name] as string);
    setParams(search);
    setFresh(new Set());
  };

  return (
    <>
      <h1>Tasks</h1>
      <FilterForm filters={filters} types={types.data?.map((type) => type.type) ?? []} showTenant={view.allTenants} onChange={setFilters} />
      <QueryView query={{ ...pages, data: pages.data }} what="tasks">
        {(data) => {
          const items = data.pages.flatMap((page) => page.items);
          if (items.length === 0) return <Empty>No task matches these filters yet. New ones appear here as they are submitted.</Empty>;
          return (
            <>
              <div className="table-wrap">
                <table aria-label="Tasks" aria-busy={pages.isFetching}>
                  <thead>
                    <tr>
                      <th scope="col">Task</th>
                      <th scope="col">Type</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="hide-narrow">
                        Progress
                      </th>
                      <th scope="col">Created</th>
                      <th scope="col" className="hide-narrow">
                        Attempts
                      </th>
                      {view.allTenants ? (
                        <th scope="col" className="hide-narrow">
                          Tenant
                        </th>
                      ) : null}
                      <th scope="col" className="hide-narrow">
                        Last error
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((task) => (
                      <tr key={task.id} className={fresh.has(task.id) ? 'fresh' : undefined} data-task-id={task.id}>
                        <td>
                          <Link to={`/tasks/${task.id}`} className="mono" aria-label={`Task ${task.id}`}>
                            {task.id.slice(0, 8)}…
                          </Link>
                        </td>
                        <td>{task.type}</td>
                        <td>
                          <StatusBadge status={task.status} />
                        </td>
                        <td className="hide-narrow">{task.status === 'active' ? <ProgressBar progress={task.progress} label={`Progress of ${task.id}`} /> : null}</td>
                        <td>
                          <TimeText iso={task.createdAt} />
                        </td>
                        <td className="hide-narrow">
                          {task.attemptsMade} / {task.maxAttempts}
                        </td>
                        {view.allTenants ? <td className="hide-narrow">{task.tenant}</td> : null}
                        <td className="hide-narrow">{task.lastError ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div className="actions" style={{ marginTop: '0.75rem' }}>
                {pages.hasNextPage ? (
                  <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
                    {pages.isFetchingNextPage ? 'Loading…' : 'Older tasks'}
                  </button>
                ) : (
                  <span>That is every matching task.</span>
                )}
              </div>
            </>
          );
        }}
      </QueryView>
    </>
  );
}
