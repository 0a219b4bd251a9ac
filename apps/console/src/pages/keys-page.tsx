import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreatedApiKeyView } from '@taskq/contracts';
import { Empty, QueryView, describeError } from '../components/page-state';
import { TimeText } from '../components/time-text';
import { Notice, type NoticeState } from '../components/notice';
import { useSession } from '../session/session-context';

const SCOPES = ['tasks:read', 'tasks:write', 'admin'] as const;

function NewKeyForm({ onCreated }: { onCreated: (key: CreatedApiKeyView) => void }): ReactNode {
  const { client } = useSession();
  const queries = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: { name: string; scopes: string[]; tenant?: string }) => client.keys.create(body),
    onSuccess: (key) => {
      setProblem(null);
      onCreated(key);
      void queries.invalidateQueries({ queryKey: ['keys'] });
    },
    onError: (error) => setProblem(describeError(error)),
  });
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const tenant = String(data.get('tenant') ?? '').trim();
    create.mutate({ name: String(data.get('name') ?? '').trim(), scopes: data.getAll('scopes').map(String), ...(tenant ? { tenant } : {}) });
  };
  return (
    <form className="panel" onSubmit={submit} aria-label="New API key">
      <div className="form-grid">
        <div>
          <label htmlFor="key-name">Name</label>
          <input id="key-name" name="name" required />
        </div>
        <div>
          <label htmlFor="key-tenant">Tenant (empty: the name)</label>
          <input id="key-tenant" name="tenant" />
        </div>
        <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
          <legend style={{ fontSize: '0.85rem', color: '#4d5560' }}>Scopes</legend>
          <div className="actions">
            {SCOPES.map((scope) => (
              <span key={scope} className="actions" style={{ gap: '0.25rem' }}>
                <input type="checkbox" id={`scope-${scope}`} name="scopes" value={scope} defaultChecked={scope === 'tasks:read'} style={{ width: 'auto' }} />
                <label htmlFor={`scope-${scope}`} style={{ display: 'inline', color: 'inherit', fontSize: 'inherit' }}>
                  {scope}
                </label>
              </span>
            ))}
          </div>
        </fieldset>
      </div>
      {problem ? (
        <p className="notice error" role="alert" style={{ marginTop: '0.75rem' }}>
          {problem}
        </p>
      ) : null}
      <p className="actions" style={{ marginTop: '0.75rem', marginBottom: 0 }}>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </p>
    </form>
  );
}

export function KeysPage(): ReactNode {
  const { client, view } = useSession();
  const queries = useQueryClient();
  const [created, setCreated] = useState<CreatedApiKeyView | null>(null);
  const [notice, setNotice] = useState<NoticeState>(null);
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => client.keys.list() });
  const revoke = useMutation({
    mutationFn: (prefix: string) => client.keys.revoke(prefix).then(() => prefix),
    onSuccess: (prefix) => {
      setNotice({ error: false, text: `Key ${prefix} revoked: it and its console sessions stop working at once.` });
      void queries.invalidateQueries({ queryKey: ['keys'] });
    },
    onError: (error) => setNotice({ error: true, text: describeError(error) }),
  });
  return (
    <>
      <h1>API keys</h1>
      {created ? (
        <div className="notice" role="status">
          <p style={{ marginTop: 0 }}>
            Key <strong>{created.name}</strong> created. Copy it now: it is shown only this once.
          </p>
          <p>
            <label htmlFor="created-key">The new key</label>
            <input id="created-key" readOnly value={created.key} className="mono" onFocus={(event) => event.currentTarget.select()} />
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      <Notice notice={notice} />
      <NewKeyForm onCreated={setCreated} />
      <QueryView query={keys} what="API keys">
        {(list) =>
          list.length === 0 ? (
            <Empty>No API keys in the database (the API_KEY of the configuration is not listed).</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label="API keys">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Scopes</th>
                    <th scope="col" className="hide-narrow">
                      Tenant
                    </th>
                    <th scope="col" className="hide-narrow">
                      Last used
                    </th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((key) => (
                    <tr key={key.prefix} data-key={key.prefix}>
                      <td>{key.name}</td>
                      <td className="mono">{key.prefix}</td>
                      <td>{key.scopes.join(', ')}</td>
                      <td className="hide-narrow">{key.tenant}</td>
                      <td className="hide-narrow">
                        <TimeText iso={key.lastUsedAt} empty="never" />
                      </td>
                      <td>
                        {key.revokedAt ? (
                          <>
                            revoked <TimeText iso={key.revokedAt} />
                          </>
                        ) : key.prefix === view.keyPrefix ? (
                          'this session'
                        ) : (
                          <button type="button" className="danger" disabled={revoke.isPending} onClick={() => revoke.mutate(key.prefix)} aria-label={`Revoke key ${key.name} (${key.prefix})`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </>
  );
}
