import type { ReactNode } from 'react';
import { TaskqError, TaskqNetworkError } from '@taskq/client';

export function Loading({ what }: { what: string }): ReactNode {
  return (
    <p className="state" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }): ReactNode {
  return <p className="state">{children}</p>;
}

/** What went wrong, in words: a 503 names what is down (the API's problem detail says which store). */
export function describeError(error: unknown): string {
  if (error instanceof TaskqError) {
    if (error.status === 503) return `Unavailable: ${error.problem.detail}`;
    if (error.status === 403) return `Not allowed: ${error.problem.detail}`;
    return error.message;
  }
  if (error instanceof TaskqNetworkError || error instanceof TypeError) return 'The taskq API cannot be reached. Check that it is running.';
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }): ReactNode {
  return (
    <div className="state error" role="alert">
      <p>{describeError(error)}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A query's three states around its content. */
export function QueryView<T>({ query, what, children }: { query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined; refetch: () => unknown }; what: string; children: (data: T) => ReactNode }): ReactNode {
  if (query.isPending) return <Loading what={what} />;
  if (query.isError || query.data === undefined) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  return children(query.data);
}
