import type { ReactNode } from 'react';

/** What the last action said: a success (announced politely) or a failure (an alert). */
export type NoticeState = { error: boolean; text: string } | null;

export function Notice({ notice }: { notice: NoticeState }): ReactNode {
  if (!notice) return null;
  return (
    <p className={`notice${notice.error ? ' error' : ''}`} role={notice.error ? 'alert' : 'status'}>
      {notice.text}
    </p>
  );
}
