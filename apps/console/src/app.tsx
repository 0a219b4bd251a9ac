import { Suspense, lazy, type ReactNode } from 'react';
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { Loading } from './components/page-state';
import { SignInPage } from './pages/sign-in-page';
import { TasksPage } from './pages/tasks-page';
import { SessionProvider, useSession } from './session/session-context';

// The task list is in the first bundle; every other page loads when it is opened (the overview's chart library with it).
const OverviewPage = lazy(() => import('./pages/overview-page').then((module) => ({ default: module.OverviewPage })));
const TaskPage = lazy(() => import('./pages/task-page').then((module) => ({ default: module.TaskPage })));
const DeadLettersPage = lazy(() => import('./pages/dead-letters-page').then((module) => ({ default: module.DeadLettersPage })));
const SchedulesPage = lazy(() => import('./pages/schedules-page').then((module) => ({ default: module.SchedulesPage })));
const KeysPage = lazy(() => import('./pages/keys-page').then((module) => ({ default: module.KeysPage })));

function Shell(): ReactNode {
  const { view, can, signOut } = useSession();
  const admin = can('admin');
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <NavLink to="/" className="brand" end>
          taskq
        </NavLink>
        <nav aria-label="Console">
          <ul>
            <li>
              <NavLink to="/" end>
                Overview
              </NavLink>
            </li>
            <li>
              <NavLink to="/tasks">Tasks</NavLink>
            </li>
            <li>
              <NavLink to="/dead-letters">Dead letters</NavLink>
            </li>
            {admin ? (
              <>
                <li>
                  <NavLink to="/schedules">Schedules</NavLink>
                </li>
                <li>
                  <NavLink to="/keys">Keys</NavLink>
                </li>
              </>
            ) : null}
          </ul>
        </nav>
        <div className="who">
          <span>
            {view.keyName} · {view.allTenants ? 'every tenant' : `tenant ${view.tenant}`}
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Suspense fallback={<Loading what="the page" />}>
          <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/tasks" element={<TasksPage />} />
          <Route path="/tasks/:id" element={<TaskPage />} />
          <Route path="/dead-letters" element={<DeadLettersPage />} />
          {admin ? <Route path="/schedules" element={<SchedulesPage />} /> : null}
          {admin ? <Route path="/keys" element={<KeysPage />} /> : null}
          <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}

export function App(): ReactNode {
  return (
    <SessionProvider signIn={<SignInPage />}>
      <Shell />
    </SessionProvider>
  );
}
