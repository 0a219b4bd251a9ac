export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusFamily {
  name: string;
  type: string;
  help: string;
}

export interface PrometheusScrape {
  families: Map<string, PrometheusFamily>;
  samples: PrometheusSample[];
  /** The value of the one sample with this name and exactly these labels, or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of a name whose labels include `labels`. */
  select(name: string, labels?: Record<string, string>): PrometheusSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match?.[1] || match[2] === undefined) throw new Error(`malformed labels in: ${line}`);
    labels[match[1]] = match[2].replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** As Prometheus reads values (Go's ParseFloat: Inf and NaN in any case; prom-client prints "Nan"). */
function parseValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`malformed value in: ${line}`);
  return value;
}

/**
 * Parses the Prometheus text exposition format (0.0.4), strictly: a line that is neither a
 * comment nor a well-formed sample throws, so a test proves a scraper could read it.
 */
export function parsePrometheusText(text: string): PrometheusScrape {
  const families = new Map<string, PrometheusFamily>();
  const samples: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name = '', rest = ''] = comment;
      const family = families.get(name) ?? { name, type: 'untyped', help: '' };
      if (kind === 'TYPE') family.type = rest;
      else family.help = rest;
      families.set(name, family);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`malformed sample line: ${line}`);
    samples.push({ name: match[1], labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3], line) });
  }
  const includes = (sample: PrometheusSample, labels: Record<string, string>): boolean =>
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
  const select = (name: string, labels: Record<string, string> = {}): PrometheusSample[] =>
    samples.filter((sample) => sample.name === name && includes(sample, labels));
  return {
    families,
    samples,
    select,
    value: (name, labels = {}) =>
      samples.find((sample) => sample.name === name && includes(sample, labels) && Object.keys(sample.labels).length === Object.keys(labels).length)?.value,
  };
}
