import type { ReactNode } from 'react';
import type { TaskProgress } from '@taskq/contracts';

/** A percentage as a bar; an object (a handler's own progress shape) as its JSON. */
export function ProgressBar({ progress, label }: { progress: TaskProgress | null; label: string }): ReactNode {
  if (progress === null) return <span>—</span>;
  if (typeof progress !== 'number') return <code>{JSON.stringify(progress)}</code>;
  const percent = Math.max(0, Math.min(100, progress));
  return (
    <div className="actions">
      <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)} style={{ width: '12rem' }}>
        <div style={{ width: `${percent}%` }} />
      </div>
      <span>{Math.round(percent)} %</span>
    </div>
  );
}
