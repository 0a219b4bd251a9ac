import type { ReactNode } from 'react';

export function JsonView({ value, label }: { value: unknown; label: string }): ReactNode {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {value === undefined || value === null ? 'null' : JSON.stringify(value, null, 2)}
    </pre>
  );
}
