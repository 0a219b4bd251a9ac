import type { ReactNode } from 'react';

export function StatusBadge({ status }: { status: string }): ReactNode {
  return <span className={`badge ${status}`}>{status.replace('_', ' ')}</span>;
}
