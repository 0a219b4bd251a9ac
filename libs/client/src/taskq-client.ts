import type {
  ApiKeyView,
  BulkSubmitResponse,
  CallbackDeliveryView,
  CountResponse,
  CreatedApiKeyView,
  DeadLetterGroupView,
  PayloadOf,
  ScheduleList,
  ScheduleView,
  SigningSecretView,
  SubmitTaskResponse,
  TaskEvent,
  TaskPage,
  TaskProgress,
  TaskStatsView,
  TaskStatus,
  TaskSummaryView,
  TaskType,
  TaskTypeView,
  TaskView,
} from '@taskq/contracts';
import { TaskqError, TaskqNetworkError, problemOf } from './errors';
import { serverSentEvents } from './server-sent-events';

export interface TaskqClientOptions {
  /** The API's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** Sent as `Authorization: Bearer`. Without it, requests carry what the browser has: a console session's cookie. */
  apiKey?: string;
  /** More headers for every request, asked for each time (a console session's CSRF token). */
  headers?: () => Record<string, string>;
  /** Another fetch (tests, proxies); default: the global one. */
  fetch?: typeof fetch;
  /** Retries of 429 and 503 (after Retry-After) and of network errors on idempotent requests. */
  retry?: { maxRetries?: number; maxDelayMs?: number };
  userAgent?: string;
}

/** A submission's options; the type and payload are `submit`'s arguments. */
export interface SubmitOptions {
  priority?: number;
  runAt?: string | Date;
  delayMs?: number;
  maxAttempts?: number;
  backoff?: { type?: 'exponential' | 'fixed'; delayMs?: number; maxDelayMs?: number; jitter?: 'full' | 'none' };
  timeoutMs?: number;
  /** Default: a random one, so a retried submit never makes two tasks. `false`: none. */
  idempotencyKey?: string | false;
  callbackUrl?: string;
}

/** One task of `submitMany`: the payload follows its type. */
export type TaskSubmission = { [T in TaskType]: { type: T; payload: PayloadOf<T> } & Omit<SubmitOptions, 'idempotencyKey'> & { idempotencyKey?: string } }[TaskType];

export interface ListQuery {
  status?: TaskStatus | `${TaskStatus}`;
  /** A task type (a filter: types this client does not know are allowed; the API refuses types it does not have). */
  type?: string;
  schedule?: string;
  /** Created at or after this time. */
  from?: string | Date;
  /** Created before this time. */
  to?: string | Date;
  /** A task id or an idempotency key (exact match). */
  q?: string;
  /** Admin keys: one tenant's tasks only (other keys may name only their own). */
  tenant?: string;
  /** Page size (1–100). */
  limit?: number;
}

export interface StatsQuery {
  /** Minutes of history, the current minute last (1–1440; default 60). */
  windowMinutes?: number;
  /** Admin keys: one tenant's history only (other keys may name only their own). */
  tenant?: string;
}

export interface DeadLetterQuery {
  type?: string;
  /** Exactly this last error (a group of `dlq.groups()`). */
  error?: string;
  from?: string;
  to?: string;
}

export interface EventQuery {
  type?: TaskType | TaskType[];
  status?: TaskStatus | `${TaskStatus}` | Array<TaskStatus | `${TaskStatus}`>;
  signal?: AbortSignal;
  /** Resume after this event id. */
  lastEventId?: string;
}

export interface WaitOptions {
  signal?: AbortSignal;
  onProgress?: (progress: TaskProgress, event: TaskEvent) => void;
  /** First polling interval when the event stream is unavailable (default 1 s; grows to 10 s). */
  pollIntervalMs?: number;
}

export interface CreateScheduleBody {
  name: string;
  cron: string;
  tz?: string | null;
  type: TaskType;
  payload: Record<string, unknown>;
  enabled?: boolean;
  callbackUrl?: string;
}

const TERMINAL: ReadonlySet<string> = new Set(['completed', 'dead', 'cancelled']);
const RECONNECT_MS = 2_000;

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Safe to send again after a network error (GET, or a submission with an idempotency key). */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/**
 * The taskq REST API, typed from the task registry: `submit('email', payload)` takes only an
 * email payload. Retries 429 and 503 after their Retry-After, and network errors where that
 * is safe; every other error is a {@link TaskqError} with the API's problem document.
 */
export class TaskqClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly maxRetries: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: TaskqClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.maxRetries = options.retry?.maxRetries ?? 3;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
  }

  /** The registered task types with their payload schemas. */
  types(): Promise<TaskTypeView[]> {
    return this.request('GET', '/task-types');
  }

  /** Submits one task; resolves once it is committed and queued. */
  submit<T extends TaskType>(type: T, payload: PayloadOf<T>, options: SubmitOptions = {}): Promise<SubmitTaskResponse> {
    const { idempotencyKey, runAt, ...rest } = options;
    const key = idempotencyKey === false ? undefined : (idempotencyKey ?? randomKey());
    const body = { type, payload, ...rest, ...(runAt !== undefined ? { runAt: runAt instanceof Date ? runAt.toISOString() : runAt } : {}) };
    return this.request('POST', '/tasks', { body, headers: key ? { 'idempotency-key': key } : {}, idempotent: key !== undefined });
  }

  /**
   * {@link submit} for a type and payload known only at run time (a command line, a config
   * file): the API checks them, and refuses a bad one with a 400 TaskqError.
   */
  submitUnchecked(type: string, payload: Record<string, unknown>, options: SubmitOptions = {}): Promise<SubmitTaskResponse> {
    return this.submit(type as TaskType, payload as PayloadOf<TaskType>, options);
  }

  /** Submits up to 1,000 tasks in one request: all are accepted, or none. */
  submitMany(tasks: TaskSubmission[], options: { idempotencyKey?: string | false } = {}): Promise<BulkSubmitResponse> {
    const key = options.idempotencyKey === false ? undefined : (options.idempotencyKey ?? randomKey());
    const body = { tasks: tasks.map((task) => ('runAt' in task && task.runAt instanceof Date ? { ...task, runAt: task.runAt.toISOString() } : task)) };
    return this.request('POST', '/tasks/bulk', { body, headers: key ? { 'idempotency-key': key } : {}, idempotent: key !== undefined });
  }

  get(id: string): Promise<TaskView> {
    return this.request('GET', `/tasks/${encodeURIComponent(id)}`);
  }

  listPage(query: ListQuery & { cursor?: string } = {}): Promise<TaskPage> {
    const { from, to, ...rest } = query;
    return this.request('GET', '/tasks', { query: { ...rest, from: isoOf(from), to: isoOf(to) } });
  }

  /** Every task matching the query, newest first, following the cursor pages. */
  async *list(query: ListQuery = {}): AsyncGenerator<TaskSummaryView> {
    let cursor: string | undefined;
    do {
      const page = await this.listPage({ ...query, cursor });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Each task type's queue depth now, and its completions, failed attempts, deaths and durations over the last minutes. */
  stats(query: StatsQuery = {}): Promise<TaskStatsView> {
    return this.request('GET', '/stats', { query: { ...query } });
  }

  /** A dead or cancelled task runs again with a fresh attempt budget. */
  retry(id: string): Promise<SubmitTaskResponse> {
    return this.request('POST', `/tasks/${encodeURIComponent(id)}/retry`);
  }

  cancel(id: string): Promise<{ id: string; status: TaskStatus; previousStatus: TaskStatus }> {
    return this.request('POST', `/tasks/${encodeURIComponent(id)}/cancel`);
  }

  /** Every try of the task's completion callbacks. */
  async callbacks(id: string): Promise<CallbackDeliveryView[]> {
    return (await this.request<{ items: CallbackDeliveryView[] }>('GET', `/tasks/${encodeURIComponent(id)}/callbacks`)).items;
  }

  readonly dlq = {
    list: (query: DeadLetterQuery & { limit?: number; cursor?: string } = {}): Promise<TaskPage> => this.request('GET', '/dlq', { query: { ...query } }),
    /** Dead tasks grouped by type and last error, biggest groups first. */
    groups: (): Promise<DeadLetterGroupView[]> => this.request('GET', '/dlq/groups'),
    get: (id: string): Promise<TaskView> => this.request('GET', `/dlq/${encodeURIComponent(id)}`),
    requeue: (id: string): Promise<SubmitTaskResponse> => this.request('POST', `/dlq/${encodeURIComponent(id)}/requeue`),
    requeueAll: (query: DeadLetterQuery = {}): Promise<CountResponse> => this.request('POST', '/dlq/requeue', { query: { ...query } }),
    delete: (id: string): Promise<void> => this.request('DELETE', `/dlq/${encodeURIComponent(id)}`),
    clear: (query: DeadLetterQuery = {}): Promise<CountResponse> => this.request('DELETE', '/dlq', { query: { ...query } }),
  };

  readonly schedules = {
    list: async (): Promise<ScheduleView[]> => (await this.request<ScheduleList>('GET', '/schedules')).items,
    get: (name: string): Promise<ScheduleView> => this.request('GET', `/schedules/${encodeURIComponent(name)}`),
    create: (body: CreateScheduleBody): Promise<ScheduleView> => this.request('POST', '/schedules', { body }),
    update: (name: string, body: Partial<Omit<CreateScheduleBody, 'name'>>): Promise<ScheduleView> => this.request('PATCH', `/schedules/${encodeURIComponent(name)}`, { body }),
    delete: (name: string): Promise<void> => this.request('DELETE', `/schedules/${encodeURIComponent(name)}`),
    /** Same as `update(name, { enabled: false })`. */
    pause: (name: string): Promise<ScheduleView> => this.request('POST', `/schedules/${encodeURIComponent(name)}/pause`),
    /** Same as `update(name, { enabled: true })`. */
    resume: (name: string): Promise<ScheduleView> => this.request('POST', `/schedules/${encodeURIComponent(name)}/resume`),
    /** Submits one task from the schedule now (a paused one too). */
    run: (name: string): Promise<SubmitTaskResponse> => this.request('POST', `/schedules/${encodeURIComponent(name)}/run`),
  };

  readonly keys = {
    list: (): Promise<ApiKeyView[]> => this.request('GET', '/keys'),
    create: (body: { name: string; scopes: string[]; tenant?: string }): Promise<CreatedApiKeyView> => this.request('POST', '/keys', { body }),
    revoke: (prefix: string): Promise<void> => this.request('DELETE', `/keys/${encodeURIComponent(prefix)}`),
  };

  readonly signingSecret = {
    get: (tenant?: string): Promise<SigningSecretView> => this.request('GET', '/signing-secret', { query: { tenant } }),
    rotate: (tenant?: string): Promise<SigningSecretView> => this.request('POST', '/signing-secret/rotate', { query: { tenant } }),
  };

  /** Every event of the key's tenant (`GET /events`), reconnecting with Last-Event-ID, until `signal` aborts. */
  events(query: EventQuery = {}): AsyncGenerator<TaskEvent> {
    const list = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(',') : value);
    return this.stream('/events', { type: list(query.type), status: list(query.status) }, query.signal, query.lastEventId, false);
  }

  /** One task's events (`GET /tasks/:id/events`): its state now, its changes, and the end after its terminal state. */
  taskEvents(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<TaskEvent> {
    return this.stream(`/tasks/${encodeURIComponent(id)}/events`, {}, options.signal, undefined, true);
  }

  /**
   * Resolves with the task once it is completed, dead or cancelled. Follows its event stream
   * (progress goes to `onProgress`) and falls back to polling when the stream is unavailable.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<TaskView> {
    const { signal, onProgress } = options;
    try {
      for await (const event of this.taskEvents(id, { signal })) {
        if (event.kind === 'progress') onProgress?.(event.progress, event);
        else if (TERMINAL.has(event.status)) return await this.get(id);
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      // A 404 is either the task (then get says so too) or an API without event streams (then poll).
      if (error instanceof TaskqError && error.status === 404) await this.get(id);
    }
    return this.poll(id, options);
  }

  private async poll(id: string, { signal, onProgress, pollIntervalMs = 1_000 }: WaitOptions): Promise<TaskView> {
    let interval = pollIntervalMs;
    let progressAt: string | null = null;
    for (;;) {
      const task = await this.get(id);
      if (task.progress !== null && task.progressUpdatedAt !== progressAt) {
        progressAt = task.progressUpdatedAt;
        onProgress?.(task.progress, { kind: 'progress', taskId: task.id, type: task.type, tenant: task.tenant, progress: task.progress, at: progressAt ?? new Date().toISOString() });
      }
      if (TERMINAL.has(task.status)) return task;
      await sleep(interval, signal);
      interval = Math.min(10_000, Math.round(interval * 1.5));
    }
  }

  private async *stream(path: string, query: Record<string, string | undefined>, signal: AbortSignal | undefined, resumeFrom: string | undefined, endsOnTerminal: boolean): AsyncGenerator<TaskEvent> {
    let lastEventId = resumeFrom;
    let reconnectMs = RECONNECT_MS;
    let failures = 0;
    while (!signal?.aborted) {
      let response: Response;
      try {
        response = await this.fetch(this.urlOf(path, query), {
          headers: { ...this.authHeaders(), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal,
        });
      } catch (error) {
        if (signal?.aborted) return;
        if (++failures > this.maxRetries) throw new TaskqNetworkError(`${path}: ${(error as Error).message}`);
        await sleep(reconnectMs, signal);
        continue;
      }
      if (response.status === 429 || response.status === 503) {
        if (++failures > this.maxRetries) throw await errorOf(response);
        await sleep(this.retryAfterMs(response), signal);
        continue;
      }
      if (!response.ok || !response.body) throw await errorOf(response);
      failures = 0;
      try {
        for await (const message of serverSentEvents(response.body as unknown as AsyncIterable<Uint8Array>)) {
          if (message.retry !== undefined) reconnectMs = message.retry;
          if (message.id !== undefined) lastEventId = message.id;
          if (message.event !== 'status' && message.event !== 'progress') continue;
          const event = JSON.parse(message.data) as TaskEvent;
          yield event;
          if (endsOnTerminal && event.kind === 'status' && TERMINAL.has(event.status)) return;
        }
      } catch (error) {
        if (signal?.aborted) return;
        if (error instanceof SyntaxError) throw error;
      }
      // The stream ended or broke: reconnect where it stopped.
      await sleep(reconnectMs, signal).catch(() => undefined);
    }
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? method === 'GET';
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(this.urlOf(path, options.query), {
          method,
          headers: { ...this.authHeaders(), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
          body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
          signal: options.signal,
        });
      } catch (error) {
        if (options.signal?.aborted || !idempotent || attempt >= this.maxRetries) throw new TaskqNetworkError(`${method} ${path}: ${(error as Error).message}`, { cause: error });
        await sleep(Math.min(this.maxDelayMs, 250 * 2 ** attempt), options.signal);
        continue;
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.maxRetries) {
        await response.body?.cancel();
        await sleep(this.retryAfterMs(response), options.signal);
        continue;
      }
      if (!response.ok) throw await errorOf(response);
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    }
  }

  private retryAfterMs(response: Response): number {
    const seconds = Number(response.headers.get('retry-after'));
    return Math.min(this.maxDelayMs, Number.isFinite(seconds) && seconds >= 0 ? seconds * 1_000 : 1_000);
  }

  private authHeaders(): Record<string, string> {
    return {
      ...(this.options.apiKey === undefined ? {} : { authorization: `Bearer ${this.options.apiKey}` }),
      'user-agent': this.options.userAgent ?? 'taskq-client/0.1',
      ...this.options.headers?.(),
    };
  }

  private urlOf(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    return url.toString();
  }
}

async function errorOf(response: Response): Promise<TaskqError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text is the detail
  }
  return new TaskqError(response.status, problemOf(response.status, body, response.statusText));
}

const isoOf = (time: string | Date | undefined): string | undefined => (time instanceof Date ? time.toISOString() : time);

function randomKey(): string {
  return globalThis.crypto.randomUUID();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
