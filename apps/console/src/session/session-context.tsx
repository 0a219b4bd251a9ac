import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { TaskqClient, TaskqError } from '@taskq/client';
import type { ApiKeyScope, ConsoleSessionView } from '@taskq/contracts';
import { sessionApi } from '../api/session-api';

export interface Session {
  view: ConsoleSessionView;
  client: TaskqClient;
  /** Whether the session's key has this scope (admin has every one): actions it lacks are not offered. */
  can: (scope: `${ApiKeyScope}`) => boolean;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export const SESSION_QUERY = ['session'] as const;

/** Reads the current session once; `children` render only while signed in, `signIn` otherwise. */
export function SessionProvider({ children, signIn }: { children: ReactNode; signIn: ReactNode }): ReactNode {
  const queries = useQueryClient();
  const current = useQuery({
    queryKey: SESSION_QUERY,
    queryFn: async () => {
      try {
        return await sessionApi.current();
      } catch (error) {
        if (error instanceof TaskqError && error.status === 401) return null;
        throw error;
      }
    },
    retry: false,
    staleTime: Infinity,
  });
  const view = current.data ?? null;
  const signOut = useCallback(async () => {
    if (view) await sessionApi.signOut(view.csrfToken).catch(() => undefined);
    queries.setQueryData(SESSION_QUERY, null);
    // What this session read must not show to the next one.
    queries.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_QUERY[0] });
  }, [queries, view]);
  const session = useMemo<Session | null>(() => {
    if (!view) return null;
    const client = new TaskqClient({ url: window.location.origin, headers: () => ({ 'x-csrf-token': view.csrfToken }), retry: { maxRetries: 1, maxDelayMs: 5_000 } });
    const scopes = new Set<string>(view.scopes);
    return { view, client, can: (scope) => scopes.has('admin') || scopes.has(scope), signOut };
  }, [view, signOut]);

  if (current.isPending) return <p className="state" role="status">Loading…</p>;
  if (current.isError) return <p className="state error" role="alert">The API cannot be reached: {String(current.error.message)}</p>;
  if (!session) return signIn;
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
