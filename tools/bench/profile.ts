/**
 * CPU profiles (`--profile`): every child app runs with `node --cpu-prof`, which writes a
 * .cpuprofile when the process exits (the bench stops them with SIGTERM). The in-process
 * baselines (raw BullMQ worker, raw addBulk) are profiled through the inspector. This file
 * reads those profiles and summarises them: the functions with the most self time, and the
 * same time grouped by package.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, fmt, markdownTable, type Window } from './support';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

/** The JSON of a .cpuprofile (V8's Profiler.Profile). */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  /** What the report calls it, e.g. "taskq worker (worker section)". */
  label: string;
  file: string | undefined;
  /** Only samples inside this measured window count (start-up and shutdown left out). */
  window?: Window;
}

export interface InProcessProfile {
  file: string;
}

/** Profiles the bench process itself between start() and stop(), through the inspector. */
export const inProcessProfile = {
  async start(): Promise<{ stop(dir: string, name: string): Promise<InProcessProfile> }> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return {
      async stop(dir, name) {
        try {
          const { profile } = await session.post('Profiler.stop');
          const file = join(dir, `${name}.cpuprofile`);
          writeFileSync(file, JSON.stringify(profile));
          return { file };
        } finally {
          session.disconnect();
        }
      },
    };
  },
};

interface Summary {
  /** The whole profile, and the part of it inside the window. */
  profileMs: number;
  totalMs: number;
  /** Sampled time outside (idle). */
  busyMs: number;
  functions: Array<{ name: string; location: string; group: string; selfMs: number }>;
  groups: Array<{ group: string; selfMs: number }>;
}

const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

const sourceMaps = new Map<string, SourceMap | null>();

/** dist/…/x.js line → the TypeScript source and line, through the build's source maps. */
function originalPosition(file: string, line: number, column: number): { source: string; line: number } | undefined {
  let map = sourceMaps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
    } catch {
      map = null;
    }
    sourceMaps.set(file, map);
  }
  if (!map) return undefined;
  const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
  if (entry.originalSource === undefined || entry.originalLine === undefined) return undefined;
  const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(file), entry.originalSource);
  return { source: relative(REPO_ROOT, source), line: entry.originalLine + 1 };
}

/** Where a function lives, shortened: `apps/worker/src/x.ts:12`, `pg/lib/client.js:40`, `node:internal/…:3`. */
function describe(frame: CallFrame): { location: string; group: string } {
  const { url } = frame;
  const line = frame.lineNumber + 1;
  if (SPECIAL.has(frame.functionName) && !url) return { location: '', group: frame.functionName };
  if (!url) return { location: '(V8 built-in or native)', group: '(V8 built-ins, native)' };
  if (url.startsWith('node:')) return { location: `${url}:${line}`, group: 'node:internal' };
  let path: string;
  try {
    path = url.startsWith('file://') ? fileURLToPath(url) : url;
  } catch {
    return { location: `${url}:${line}`, group: url };
  }
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const inside = path.slice(modules + '/node_modules/'.length);
    const parts = inside.split('/');
    const pkg = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? inside);
    return { location: `${inside}:${line}`, group: pkg };
  }
  const fromRepo = relative(REPO_ROOT, path);
  if (!fromRepo.startsWith('..')) {
    const original = originalPosition(path, frame.lineNumber, frame.columnNumber);
    const shown = original ? `${original.source}:${original.line}` : `${fromRepo}:${line}`;
    const project = /^(?:dist\/)?((?:apps|libs|tools)\/[^/]+)/.exec(original?.source ?? fromRepo)?.[1];
    return { location: shown, group: project ? `taskq ${project}` : 'taskq' };
  }
  return { location: `${path}:${line}`, group: path };
}

export function summariseProfile(file: string, window?: Window): Summary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time from sample i-1 to sample i; sample i stands for the time until the next one.
    let at = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (window && (at < window.fromUs || at > window.toUs)) continue;
      const id = samples[i] ?? -1;
      const next = i + 1 < deltas.length ? (deltas[i + 1] ?? 0) : 0;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
    }
  } else {
    const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
    const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * interval);
  }

  const functions = new Map<string, { name: string; location: string; group: string; selfMs: number }>();
  const groups = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const { location, group } = describe(frame);
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', location, group, selfMs: 0 };
    entry.selfMs += us / 1_000;
    functions.set(key, entry);
    groups.set(group, (groups.get(group) ?? 0) + us / 1_000);
  }
  return {
    profileMs: (profile.endTime - profile.startTime) / 1_000,
    totalMs: totalUs / 1_000,
    busyMs: (totalUs - idleUs) / 1_000,
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs),
    groups: [...groups].map(([group, selfMs]) => ({ group, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

const pct = (part: number, whole: number): string => (whole > 0 ? `${fmt((100 * part) / whole, 1)} %` : '–');

/** The profile part of the report: per process, top self-time functions and packages. */
export function profileReport(entries: ProfileEntry[], dir: string, topFunctions = 15, topGroups = 12): string[] {
  const out: string[] = [];
  out.push(`### CPU profiles (--profile): self time per function and per package`);
  out.push('');
  out.push(
    `Files in \`${relative(REPO_ROOT, dir)}/\` (open them in Chrome DevTools or speedscope). Self time is the sampled time spent in the function's own code, ` +
      `not in what it calls; % is of the process's busy (non-idle) sampled time in the section's measured window (start-up and shutdown left out). ` +
      `Lines of taskq code are mapped to the TypeScript source through the build's source maps.`,
  );
  out.push('');
  for (const entry of entries) {
    out.push(`#### ${entry.label}`);
    out.push('');
    if (!entry.file || !existsSync(entry.file)) {
      out.push(`- no profile: the process did not write one (it must exit normally; a SIGKILL or a re-raised signal loses it)`);
      out.push('');
      continue;
    }
    let summary: Summary;
    try {
      summary = summariseProfile(entry.file, entry.window);
      // No sample inside the window (clocks that do not agree): the whole profile rather than nothing.
      if (entry.window && summary.totalMs === 0) summary = summariseProfile(entry.file);
    } catch (error) {
      out.push(`- could not read ${relative(REPO_ROOT, entry.file)}: ${(error as Error).message}`);
      out.push('');
      continue;
    }
    const scope = summary.totalMs < summary.profileMs * 0.98 ? `${fmt(summary.totalMs / 1_000, 1)} s in the measured window of ${fmt(summary.profileMs / 1_000, 1)} s profiled` : `${fmt(summary.totalMs / 1_000, 1)} s profiled`;
    out.push(`- ${relative(REPO_ROOT, entry.file)}: ${scope}, ${fmt(summary.busyMs / 1_000, 1)} s of it busy`);
    out.push('');
    out.push(
      markdownTable(
        ['function', 'where', 'self ms', 'self %'],
        summary.functions.slice(0, topFunctions).map((f) => [f.name, f.location, fmt(f.selfMs, 0), pct(f.selfMs, summary.busyMs)]),
        [false, false, true, true],
      ),
    );
    out.push('');
    out.push(
      markdownTable(
        ['package', 'self ms', 'self %'],
        summary.groups.slice(0, topGroups).map((g) => [g.group, fmt(g.selfMs, 0), pct(g.selfMs, summary.busyMs)]),
        [false, true, true],
      ),
    );
    out.push('');
  }
  return out;
}
