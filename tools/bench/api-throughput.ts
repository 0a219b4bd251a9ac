/**
 * API throughput: autocannon POSTs `{ "type": "noop", "payload": {} }` to /submit-task.
 * The same load runs against the real API process and against a bare Nest/Fastify app.
 */
import autocannon from 'autocannon';
import { cpuDelta, cpuSnapshot, type CpuGroups } from './support';

export interface HttpRunResult {
  label: string;
  durationS: number;
  requestsPerSecondMean: number;
  /** Responses received / elapsed seconds. */
  requestsPerSecondOverall: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  responses: number;
  /** Requests written but not answered when autocannon stopped. */
  unanswered: number;
  status202: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Ids from the 202 answers (only when asked for). */
  acceptedIds: string[];
  cpu: Record<string, number>;
}

export const SUBMIT_BODY = JSON.stringify({ type: 'noop', payload: {} });

/** The API under test accepts this as its bootstrap admin key (API_KEY). */
export const BENCH_API_KEY = 'taskq-bench-bootstrap-admin-key-0123456789';

export async function loadTest(
  label: string,
  baseUrl: string,
  options: { connections: number; durationS: number; collectIds: boolean; cpuGroups: CpuGroups },
): Promise<HttpRunResult> {
  const acceptedIds: string[] = [];
  const before = cpuSnapshot(options.cpuGroups);
  const result = await autocannon({
    url: `${baseUrl}/submit-task`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
    body: SUBMIT_BODY,
    connections: options.connections,
    duration: options.durationS,
    // Called for every complete response: keeps the ids of accepted tasks for the row check.
    verifyBody: options.collectIds
      ? (body) => {
          try {
            const parsed = JSON.parse(String(body)) as { id?: unknown; status?: unknown };
            if (typeof parsed.id === 'string' && parsed.status === 'queued') acceptedIds.push(parsed.id);
          } catch {
            // not JSON (an error page): counted through the status codes
          }
          return true;
        }
      : undefined,
  });
  const cpu = cpuDelta(before, cpuSnapshot(options.cpuGroups));
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    label,
    durationS: result.duration,
    requestsPerSecondMean: result.requests.mean,
    requestsPerSecondOverall: responses / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    responses,
    unanswered: Math.max(0, result.requests.sent - responses),
    status202: statusCodes['202'] ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    acceptedIds,
    cpu,
  };
}
