import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { waitFor } from './wait-for';

export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited(): Promise<number | null>;
}

/** Starts `node <nodeArgs>` (a built app) as a real process, with its output captured. */
export function startAppProcess(nodeArgs: string[], env: Record<string, string>, cwd: string): AppProcess {
  const child = spawn(process.execPath, nodeArgs, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exit = child.exitCode !== null ? Promise.resolve(child.exitCode) : once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => log,
    exited: () => exit,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until `url` answers 200; fails at once if the process exits first. */
export async function waitForHttp(url: string, app: AppProcess, timeoutMs = 30_000): Promise<void> {
  const exitedEarly = app.exited().then((code) => {
    throw new Error(`process exited with ${code} before ${url} answered:\n${app.output()}`);
  });
  const ready = waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 200, {
    timeoutMs,
    intervalMs: 100,
    description: `${url} answers 200`,
  });
  exitedEarly.catch(() => undefined);
  await Promise.race([ready, exitedEarly]);
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no free port');
  return address.port;
}
