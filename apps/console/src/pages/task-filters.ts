export const TASK_STATUSES = ['queued', 'delayed', 'active', 'retrying', 'completed', 'dead', 'cancelled'] as const;
export type TaskStatusName = (typeof TASK_STATUSES)[number];

/** The task list's filters, as they appear in the page's URL (so a filtered view can be shared). */
export interface TaskFilters {
  status?: TaskStatusName;
  type?: string;
  schedule?: string;
  from?: string;
  to?: string;
  q?: string;
  tenant?: string;
}

export const FILTER_NAMES = ['status', 'type', 'schedule', 'from', 'to', 'q', 'tenant'] as const satisfies ReadonlyArray<keyof TaskFilters>;

const isStatus = (value: string): value is TaskStatusName => (TASK_STATUSES as readonly string[]).includes(value);

/** Filters from name/value pairs (the URL, the form); an unknown status is dropped. */
export function filtersFrom(get: (name: keyof TaskFilters) => string | undefined): TaskFilters {
  const filters: TaskFilters = {};
  for (const name of FILTER_NAMES) {
    const value = get(name)?.trim();
    if (!value) continue;
    if (name === 'status') {
      if (isStatus(value)) filters.status = value;
    } else filters[name] = value;
  }
  return filters;
}

export function filtersOf(params: URLSearchParams): TaskFilters {
  return filtersFrom((name) => params.get(name) ?? undefined);
}

/** `datetime-local` inputs hold local time without a zone; the API wants ISO instants. */
export function localInputToIso(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
