import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { TaskqError } from '@taskq/client';
import { App } from './app';
import { SESSION_QUERY } from './session/session-context';
import './styles.css';

/** A 401 anywhere means the session ended (expired, signed out elsewhere, key revoked): back to sign-in. */
const onError = (error: unknown): void => {
  if (error instanceof TaskqError && error.status === 401) queries.setQueryData(SESSION_QUERY, null);
};

const queries: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      retry: (failures, error) => !(error instanceof TaskqError && error.status < 500) && failures < 2,
      refetchOnWindowFocus: true,
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <BrowserRouter basename="/console">
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
