import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { TaskqError } from '@taskq/client';
import { sessionApi } from '../api/session-api';
import { describeError } from '../components/page-state';
import { SESSION_QUERY } from '../session/session-context';

export function SignInPage(): ReactNode {
  const queries = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const signIn = useMutation({
    mutationFn: (apiKey: string) => sessionApi.signIn(apiKey),
    onSuccess: (view) => queries.setQueryData(SESSION_QUERY, view),
    onError: (error) => setProblem(error instanceof TaskqError && error.status === 401 ? 'This API key is not valid: it is unknown, revoked or mistyped.' : describeError(error)),
  });
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem('apiKey') as HTMLInputElement;
    setProblem(null);
    signIn.mutate(input.value.trim());
    // The key is not kept anywhere in the page: the session cookie stands for it from now on.
    input.value = '';
  };
  return (
    <main className="sign-in">
      <h1>taskq console</h1>
      <form className="panel" onSubmit={submit} aria-label="Sign in">
        <p style={{ marginTop: 0 }}>Sign in with an API key. The console sees and does what the key may.</p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="apiKey" type="password" autoComplete="off" required />
        {problem ? (
          <p className="notice error" role="alert" style={{ marginTop: '0.75rem' }}>
            {problem}
          </p>
        ) : null}
        <p className="actions" style={{ marginBottom: 0 }}>
          <button type="submit" className="primary" disabled={signIn.isPending}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </p>
      </form>
    </main>
  );
}
