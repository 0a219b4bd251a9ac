import type { ReactNode } from 'react';
import type { AttemptView } from '@taskq/contracts';
import { StatusBadge } from './status-badge';
import { TimeText, formatDuration } from './time-text';

/** One bar per attempt, placed on a shared time axis from the first start to the last end (or now). */
export function AttemptsTimeline({ attempts, now = Date.now() }: { attempts: readonly AttemptView[]; now?: number }): ReactNode {
  if (attempts.length === 0) return <p className="state">No attempt yet.</p>;
  const startOf = (attempt: AttemptView): number => Date.parse(attempt.startedAt);
  const endOf = (attempt: AttemptView): number => (attempt.finishedAt ? Date.parse(attempt.finishedAt) : now);
  const from = Math.min(...attempts.map(startOf));
  const to = Math.max(...attempts.map(endOf), from + 1);
  const span = to - from;
  return (
    <ol className="timeline" aria-label="Attempts">
      {attempts.map((attempt) => {
        const left = ((startOf(attempt) - from) / span) * 100;
        const width = Math.max(((endOf(attempt) - startOf(attempt)) / span) * 100, 0.5);
        return (
          <li key={attempt.number} className="row">
            <span>
              #{attempt.number} <StatusBadge status={attempt.outcome} />
            </span>
            <div className="track" aria-hidden="true">
              <div className={`bar ${attempt.outcome}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
            </div>
            <div className="detail">
              worker <code>{attempt.workerId}</code> · started <TimeText iso={attempt.startedAt} /> · {formatDuration(attempt.durationMs ?? (attempt.finishedAt ? null : now - startOf(attempt)))}
              {attempt.error ? (
                <>
                  {' '}
                  · <span>{attempt.error}</span>
                </>
              ) : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
