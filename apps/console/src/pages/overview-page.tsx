import { useMemo, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { TaskStatsView, TaskTypeStats } from '@taskq/contracts';
import { LineChart, type Series } from '../components/line-chart';
import { Empty, QueryView } from '../components/page-state';
import { formatDuration } from '../components/time-text';
import { useSession } from '../session/session-context';

const COLORS = { completed: '#1d6b35', failed: '#8a5300', dead: '#a4161a' };

function minuteTimes(stats: TaskStatsView): number[] {
  const from = Date.parse(stats.from);
  return Array.from({ length: stats.windowMinutes }, (_, minute) => from + minute * 60_000);
}

function seriesOf(type: Pick<TaskTypeStats, 'completed' | 'failedAttempts' | 'dead'>): Series[] {
  return [
    { label: 'completed', color: COLORS.completed, values: type.completed.perMinute },
    { label: 'failed attempts', color: COLORS.failed, values: type.failedAttempts.perMinute },
    { label: 'dead', color: COLORS.dead, values: type.dead.perMinute },
  ];
}

const sumPerMinute = (lists: number[][], length: number): number[] => Array.from({ length }, (_, minute) => lists.reduce((sum, list) => sum + (list[minute] ?? 0), 0));

function TypePanel({ stats, times }: { stats: TaskTypeStats; times: number[] }): ReactNode {
  const series = useMemo(() => seriesOf(stats), [stats]);
  const depth = stats.depth;
  return (
    <section className="panel" aria-labelledby={`type-${stats.type}`}>
      <h2 id={`type-${stats.type}`} style={{ marginTop: 0 }}>
        {stats.type}
      </h2>
      <p className="depth" aria-label={`${stats.type} queue depth`}>
        <span>waiting {depth.waiting + depth.prioritized}</span>
        <span>delayed {depth.delayed}</span>
        <span>active {depth.active}</span>
        <span>failed in Redis {depth.failed}</span>
      </p>
      <div className="figures">
        <div>
          <span>completed</span>
          <strong>{stats.completed.total}</strong>
        </div>
        <div>
          <span>failed attempts</span>
          <strong>{stats.failedAttempts.total}</strong>
        </div>
        <div>
          <span>dead</span>
          <strong>{stats.dead.total}</strong>
        </div>
        <div>
          <span>p50 / p95</span>
          <strong>
            {formatDuration(stats.durationMs.p50)} / {formatDuration(stats.durationMs.p95)}
          </strong>
        </div>
      </div>
      <LineChart
        title={`${stats.type}: per minute`}
        times={times}
        series={series}
        summary={`Over the window: ${stats.completed.total} completed, ${stats.failedAttempts.total} failed attempts, ${stats.dead.total} dead.`}
      />
    </section>
  );
}

function Overview({ stats }: { stats: TaskStatsView }): ReactNode {
  const times = useMemo(() => minuteTimes(stats), [stats]);
  const all = useMemo(() => {
    const pick = (select: (type: TaskTypeStats) => number[]): number[] => sumPerMinute(stats.types.map(select), stats.windowMinutes);
    return seriesOf({
      completed: { perMinute: pick((type) => type.completed.perMinute), total: 0 },
      failedAttempts: { perMinute: pick((type) => type.failedAttempts.perMinute), total: 0 },
      dead: { perMinute: pick((type) => type.dead.perMinute), total: 0 },
    });
  }, [stats]);
  if (stats.types.length === 0) return <Empty>No task types are registered.</Empty>;
  const total = (select: (type: TaskTypeStats) => number): number => stats.types.reduce((sum, type) => sum + select(type), 0);
  return (
    <>
      <section className="panel" aria-labelledby="all-types">
        <h2 id="all-types" style={{ marginTop: 0 }}>
          All types, last {stats.windowMinutes} minutes{stats.tenant ? ` (tenant ${stats.tenant})` : ''}
        </h2>
        <LineChart
          title="Every type: per minute"
          times={times}
          series={all}
          summary={`Over the window: ${total((type) => type.completed.total)} completed, ${total((type) => type.failedAttempts.total)} failed attempts, ${total((type) => type.dead.total)} dead.`}
        />
      </section>
      <div className="grid">
        {stats.types.map((type) => (
          <TypePanel key={type.type} stats={type} times={times} />
        ))}
      </div>
    </>
  );
}

export function OverviewPage(): ReactNode {
  const { client } = useSession();
  const stats = useQuery({ queryKey: ['stats'], queryFn: () => client.stats({ windowMinutes: 60 }), refetchInterval: 10_000 });
  return (
    <>
      <h1>Overview</h1>
      <QueryView query={stats} what="the figures">
        {(data) => <Overview stats={data} />}
      </QueryView>
    </>
  );
}
