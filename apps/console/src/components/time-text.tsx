import type { ReactNode } from 'react';

const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time in the viewer's time zone; the ISO form on hover (and for machines). */
export function TimeText({ iso, empty = '—' }: { iso: string | null | undefined; empty?: string }): ReactNode {
  if (!iso) return <span>{empty}</span>;
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {format.format(date)}
    </time>
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}
