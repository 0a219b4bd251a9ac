import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TASK_TYPE_NAMES } from '@taskq/contracts';
// The dashboard is held to the metric registries the apps build, from the libs that define them.
import { TaskqMetrics, type TaskqApp } from '@taskq/observability';
import { QueueDepthCollector, type CountingQueue } from '@taskq/queue';

const DASHBOARD_PATH = resolve(__dirname, '../../../../deploy/grafana/taskq-dashboard.json');
const DATASOURCE = '${datasource}';

interface DataSourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: DataSourceRef;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DataSourceRef;
  targets?: Target[];
}
interface TemplateVariable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
  datasource?: DataSourceRef;
}
interface Dashboard {
  title?: string;
  uid?: string;
  schemaVersion?: number;
  time?: { from?: string; to?: string };
  refresh?: string;
  templating?: { list?: TemplateVariable[] };
  panels?: Panel[];
}

// ---------------------------------------------------------------------------------------
// What the apps export

/** A series name a scrape can show, the labels it carries and the apps that export it. */
interface ExportedSeries {
  labels: Set<string>;
  apps: Set<TaskqApp>;
}

/** Labels Prometheus attaches to every series it scrapes. */
const TARGET_LABELS = ['job', 'instance'];
const APPS: readonly TaskqApp[] = ['api', 'worker', 'monitor'];
/** The apps that add the queue-depth gauges to their registry (api's MetricsModule, monitor's MonitorQueueDepth). */
const APPS_WITH_QUEUE_DEPTH: readonly TaskqApp[] = ['api', 'monitor'];

const emptyQueue: CountingQueue = { getJobCounts: () => Promise.resolve({}) };

/** The labels a prom-client metric was declared with (kept on the instance, absent from its typings). */
function declaredLabels(metric: object): string[] {
  const names: unknown = 'labelNames' in metric ? metric.labelNames : undefined;
  return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string') : [];
}

/**
 * Every series name of the three apps' registries, built as the apps build them, with the
 * suffixes Prometheus sees: a histogram `x` is `x_bucket` (with `le`), `x_sum` and `x_count`.
 */
async function exportedSeries(): Promise<Map<string, ExportedSeries>> {
  const series = new Map<string, ExportedSeries>();
  const add = (name: string, labels: Iterable<string>, app: TaskqApp): void => {
    const entry = series.get(name) ?? { labels: new Set(TARGET_LABELS), apps: new Set() };
    for (const label of labels) entry.labels.add(label);
    entry.apps.add(app);
    series.set(name, entry);
  };
  for (const app of APPS) {
    const metrics = new TaskqMetrics(app);
    if (APPS_WITH_QUEUE_DEPTH.includes(app)) {
      new QueueDepthCollector(metrics, { tasks: TASK_TYPE_NAMES.map((type) => ({ type, queue: emptyQueue })), deadLetter: emptyQueue });
    }
    const declared = new Map(metrics.registry.getMetricsAsArray().map((metric) => [metric.name, declaredLabels(metric)]));
    for (const family of await metrics.registry.getMetricsAsJSON()) {
      const labels = new Set([...(declared.get(family.name) ?? []), ...family.values.flatMap((value) => Object.keys(value.labels))]);
      labels.delete('le');
      labels.delete('quantile');
      // prom-client types `type` as a numeric enum; at run time it is the exposition name.
      const kind = String(family.type);
      if (kind === 'histogram') {
        add(`${family.name}_bucket`, [...labels, 'le'], app);
        add(`${family.name}_sum`, labels, app);
        add(`${family.name}_count`, labels, app);
      } else if (kind === 'summary') {
        add(family.name, [...labels, 'quantile'], app);
        add(`${family.name}_sum`, labels, app);
        add(`${family.name}_count`, labels, app);
      } else {
        add(family.name, labels, app);
      }
    }
  }
  return series;
}

// ---------------------------------------------------------------------------------------
// What a PromQL expression reads

/** A metric an expression reads, with the labels it matches on or groups by. */
interface MetricUse {
  metric: string;
  labels: string[];
}

const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile'];
const FUNCTIONS = new Set([
  ...AGGREGATIONS,
  ...['abs', 'absent', 'absent_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month'],
  ...['delta', 'deriv', 'exp', 'floor', 'histogram_quantile', 'histogram_count', 'histogram_sum', 'histogram_fraction', 'holt_winters', 'hour', 'idelta', 'increase', 'irate'],
  ...['label_join', 'label_replace', 'ln', 'log2', 'log10', 'minute', 'month', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc'],
  ...['sqrt', 'time', 'timestamp', 'vector', 'year', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'quantile_over_time'],
  ...['stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time'],
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

interface Token {
  kind: 'identifier' | 'string' | 'range' | 'number' | 'punctuation';
  text: string;
}

const TOKEN =
  /\s+|(?<identifier>[a-zA-Z_:][a-zA-Z0-9_:]*)|(?<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(?<range>\[[^\]]*\])|(?<number>(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?[a-z]*)|(?<punctuation>=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>])/y;

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expr);
    if (!match) throw new Error(`cannot read PromQL at "${expr.slice(at, at + 20)}" in: ${expr}`);
    const found = Object.entries(match.groups ?? {}).find(([, text]) => text !== undefined);
    if (found) tokens.push({ kind: found[0] as Token['kind'], text: found[1] as string });
  }
  return tokens;
}

/** The index of the bracket that closes (or, going back, opens) the one at `index`. */
function matchingBracket(tokens: Token[], index: number): number {
  const step = tokens[index]?.text === '(' || tokens[index]?.text === '{' ? 1 : -1;
  let depth = 0;
  for (let i = index; i >= 0 && i < tokens.length; i += step) {
    const text = tokens[i]?.text;
    if (text === '(' || text === '{') depth += step;
    if (text === ')' || text === '}') depth -= step;
    if (depth === 0) return i;
  }
  throw new Error('unbalanced brackets');
}

/** The label names of a `(a, b)` list or a `{a="x", b=~"y"}` matcher starting at `open`. */
function labelList(tokens: Token[], open: number): { labels: string[]; close: number } {
  const close = matchingBracket(tokens, open);
  const inside = tokens.slice(open + 1, close);
  const labels = inside.filter((token, i) => token.kind === 'identifier' && (i === 0 || inside[i - 1]?.text === ',')).map((token) => token.text);
  return { labels, close };
}

/**
 * The metrics an expression reads and the labels it uses on each: its selector's matchers,
 * and the `by (…)` labels of every aggregation around it. Throws on an unknown function.
 */
function metricUses(expr: string): MetricUse[] {
  const tokens = tokenize(expr);
  const selectors: Array<MetricUse & { index: number }> = [];
  const groupings: Array<{ labels: string[]; from: number; to: number }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (token.kind !== 'identifier') continue;
    const word = token.text.toLowerCase();
    if (LABEL_LISTS.has(word) && next?.text === '(') {
      const { labels, close } = labelList(tokens, i + 1);
      if (word === 'by' || word === 'without') {
        // `sum by (x) (…)` or `sum (…) by (x)`: the labels apply to the aggregated argument.
        const prefix = tokens[close + 1]?.text === '(';
        const from = prefix ? close + 1 : matchingBracket(tokens, i - 1);
        groupings.push({ labels, from, to: prefix ? matchingBracket(tokens, from) : i - 1 });
      } else {
        groupings.push({ labels, from: 0, to: tokens.length });
      }
      i = close;
    } else if (KEYWORDS.has(word)) {
      continue;
    } else if (next?.text === '(' || next?.text === 'by' || next?.text === 'without') {
      if (!FUNCTIONS.has(token.text)) throw new Error(`unknown PromQL function ${token.text} in: ${expr}`);
    } else if (next?.text === '{') {
      const { labels, close } = labelList(tokens, i + 1);
      selectors.push({ metric: token.text, labels, index: i });
      i = close;
    } else {
      selectors.push({ metric: token.text, labels: [], index: i });
    }
  }
  return selectors.map(({ metric, labels, index }) => ({
    metric,
    labels: [...labels, ...groupings.filter(({ from, to }) => from <= index && index <= to).flatMap((grouping) => grouping.labels)],
  }));
}

/** What is wrong with an expression's metrics and labels against the exported series. */
function problemsOf(expr: string, exported: Map<string, ExportedSeries>): string[] {
  return metricUses(expr).flatMap(({ metric, labels }) => {
    const series = exported.get(metric);
    if (!series) return [`${metric} is not exported by any app`];
    return labels.filter((label) => !series.labels.has(label)).map((label) => `${metric} has no label ${label}`);
  });
}

// ---------------------------------------------------------------------------------------

describe('Grafana dashboard (deploy/grafana/taskq-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
  const panels = dashboard.panels ?? [];
  const queryPanels = panels.filter((panel) => panel.type !== 'row');
  const variables = dashboard.templating?.list ?? [];
  let exported: Map<string, ExportedSeries>;

  beforeAll(async () => {
    exported = await exportedSeries();
  });

  it('is a dashboard with a Prometheus datasource variable, a task-type variable, the last hour and a 30 s refresh', () => {
    expect(dashboard).toMatchObject({ title: expect.any(String), uid: expect.stringMatching(/^[\w-]{1,40}$/), time: { from: 'now-1h', to: 'now' }, refresh: '30s' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(variables.find((variable) => variable.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.find((variable) => variable.name === 'type')).toMatchObject({ type: 'query', datasource: { uid: DATASOURCE } });
  });

  it('gives every panel a unique id, the datasource variable and a PromQL query', () => {
    const ids = panels.map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queryPanels.length).toBeGreaterThan(10);
    const problems = queryPanels.flatMap((panel) => {
      const name = panel.title || `panel ${panel.id} (no title)`;
      const targets = panel.targets ?? [];
      return [
        ...(panel.datasource?.uid === DATASOURCE ? [] : [`${name}: datasource is not ${DATASOURCE}`]),
        ...(targets.length > 0 ? [] : [`${name}: no query`]),
        ...targets.filter((target) => !target.expr?.trim()).map((target) => `${name}: query ${target.refId} has no expr`),
        ...targets.filter((target) => target.datasource && target.datasource.uid !== DATASOURCE).map((target) => `${name}: query ${target.refId} has another datasource`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('reads only metrics the apps export, with labels they carry', () => {
    const problems = queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => problemsOf(target.expr ?? '', exported).map((problem) => `${panel.title}: ${problem}`)));
    const typeVariable = variables.find((variable) => variable.name === 'type');
    const query = typeof typeVariable?.query === 'string' ? typeVariable.query : typeVariable?.query?.query;
    const labelValues = /^label_values\((\w+),\s*(\w+)\)$/.exec(query ?? '');
    expect(labelValues).not.toBeNull();
    problems.push(...problemsOf(`${labelValues?.[1]}{${labelValues?.[2]}=""}`, exported).map((problem) => `variable type: ${problem}`));
    expect(problems).toEqual([]);
  });

  it('shows queue depth, submission, completion, failure and death rates, attempt durations and dead tasks', () => {
    const used = new Set(queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricUses(target.expr ?? '').map((use) => use.metric))));
    const expected = ['taskq_queue_jobs', 'taskq_tasks_submitted_total', 'taskq_tasks_completed_total', 'taskq_task_attempts_failed_total', 'taskq_tasks_dead_total', 'taskq_task_attempt_duration_seconds_bucket', 'taskq_dead_letter_jobs'];
    expect(expected.filter((metric) => !used.has(metric))).toEqual([]);
  });

  it('catches a metric or a label the apps do not export', () => {
    expect(problemsOf('sum by (type) (rate(taskq_tasks_submited_total[5m]))', exported)).toEqual(['taskq_tasks_submited_total is not exported by any app']);
    expect(problemsOf('sum by (tenant) (rate(taskq_tasks_submitted_total{type=~"$type"}[5m]))', exported)).toEqual(['taskq_tasks_submitted_total has no label tenant']);
    expect(problemsOf('sum(rate(taskq_tasks_dead_total{queue="email"}[5m])) by (type)', exported)).toEqual(['taskq_tasks_dead_total has no label queue']);
    expect(problemsOf('histogram_quantile(0.9, sum by (le) (rate(taskq_task_attempt_duration_seconds[5m])))', exported)).toEqual(['taskq_task_attempt_duration_seconds is not exported by any app']);
    expect(problemsOf('histogram_quantile(0.9, sum by (le) (rate(taskq_task_queue_wait_seconds_sum[5m])))', exported)).toEqual(['taskq_task_queue_wait_seconds_sum has no label le']);
    expect(() => metricUses('rates(taskq_tasks_dead_total[5m])')).toThrow('unknown PromQL function rates');
  });
});
