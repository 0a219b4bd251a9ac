import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { CreatedApiKeyView, SubmitTaskResponse, TaskView } from '@taskq/contracts';
import { TEST_API_KEY, TEST_REDIS_URL, apiFetch, deleteRedisPrefix, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { WORKSPACE_ROOT, freePort, startBuiltApp } from '../support/built-apps';

/**
 * The console in a real browser (Debian's chromium driven by playwright-core) against the
 * built api and worker: sign-in and out, live task list, a task's attempts, retry, a
 * dead-letter group requeued, schedules, a read-only key, tenant isolation. Every page is
 * checked with axe-core and photographed at 1280 px and at phone width into
 * test-output/console/.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(WORKSPACE_ROOT, 'test-output', 'console');
const AXE = require.resolve('axe-core/axe.min.js');
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

const db = testDatabase('e2e_console');
const prefix = uniquePrefix('e2e-console');
let api: AppProcess;
let worker: AppProcess;
let baseUrl: string;
let browser: Browser | undefined;
let receiver: Server;
let receiverUrl: string;
/** What the webhook receiver answers: tasks fail until a test lets them through. */
let receiverStatus = 500;
const keys: Record<'reader' | 'alpha' | 'beta', string> = { reader: '', alpha: '', beta: '' };

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

const json = async <T>(response: Response): Promise<T> => {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${text}`);
  return JSON.parse(text) as T;
};

async function submit(body: Record<string, unknown>, key = TEST_API_KEY): Promise<string> {
  const response = await fetch(`${baseUrl}/tasks`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await json<SubmitTaskResponse>(response)).id;
}

const readTask = async (id: string): Promise<TaskView> => json<TaskView>(await apiFetch(`${baseUrl}/tasks/${id}`));
const waitStatus = (id: string, status: string, timeoutMs = 20_000): Promise<TaskView> =>
  waitFor(async () => {
    const task = await readTask(id);
    return task.status === status ? task : undefined;
  }, { timeoutMs, description: `task ${id} ${status}` });

/** A webhook task that dies at once while the receiver answers 500 (one attempt). */
const failingWebhook = (key?: string): Promise<string> => submit({ type: 'webhook', payload: { url: receiverUrl, method: 'POST', body: { hello: 'console' } }, maxAttempts: 1 }, key);

async function newPage(size: { width: number; height: number } = WIDTHS.desktop): Promise<{ context: BrowserContext; page: Page }> {
  if (!browser) throw new Error('the browser did not start');
  // bypassCSP only so that the test can inject axe-core; the console itself runs under its CSP.
  const context = await browser.newContext({ viewport: size, bypassCSP: true, timezoneId: 'Europe/Paris' });
  context.setDefaultTimeout(15_000);
  return { context, page: await context.newPage() };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`, { waitUntil: 'domcontentloaded' });
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** axe-core in the page: no serious or critical violation. */
async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // The page's globals, typed here: this file compiles without the DOM library.
    const page = globalThis as unknown as { axe: { run: (context: object, options: object) => Promise<{ violations: AxeViolation[] }> }; document: object };
    return (await page.axe.run(page.document, { resultTypes: ['violations'] })).violations;
  });
  const grave = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect({ page: name, violations: grave.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`) }).toEqual({ page: name, violations: [] });
}

/** Every page: photographed at both widths, and checked by axe at each. */
async function capture(page: Page, name: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
  for (const [width, size] of Object.entries(WIDTHS)) {
    await page.setViewportSize(size);
    await ready(page);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    await expectAccessible(page, `${name} at ${width}`);
  }
  await page.setViewportSize(WIDTHS.desktop);
}

async function createKey(name: string, scopes: string[], tenant: string): Promise<string> {
  const response = await apiFetch(`${baseUrl}/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes, tenant }) });
  return (await json<CreatedApiKeyView>(response)).key;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this browser test drives Debian's chromium. Install it with \`apt-get install chromium\` (bash .ci/run does it).`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(receiverStatus, { 'content-type': 'text/plain' }).end(receiverStatus === 200 ? 'ok' : 'receiver says no'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startBuiltApp('api', { ...env, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', WEBHOOK_ALLOW_PRIVATE: 'true' });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  worker = startBuiltApp('worker', { ...env, LOG_LEVEL: 'info', WORKER_ID: 'e2e-console-worker', SHUTDOWN_TIMEOUT_MS: '5000', WEBHOOK_ALLOW_PRIVATE: 'true' });
  await waitFor(() => worker.child.exitCode !== null || worker.output().includes('taskq worker e2e-console-worker started'), { timeoutMs: 30_000, description: 'worker started' });
  if (worker.child.exitCode !== null) throw new Error(`worker exited with ${worker.child.exitCode}:\n${worker.output()}`);

  keys.reader = await createKey('alpha-reader', ['tasks:read'], 'alpha');
  keys.alpha = await createKey('alpha-writer', ['tasks:read', 'tasks:write'], 'alpha');
  keys.beta = await createKey('beta-writer', ['tasks:read', 'tasks:write'], 'beta');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  const started = [worker, api].filter((app): app is AppProcess => app !== undefined);
  const codes = await Promise.all(started.map((app) => app.stop()));
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual(started.map(() => 0));
});

describe('the console in a browser', () => {
  it('refuses a wrong key, signs in with a good one (the key is not kept: an HttpOnly cookie stands for it), and signs out', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${baseUrl}/console/`, { waitUntil: 'domcontentloaded' });
      await page.getByLabel('API key').fill('tq_wrongwrongwro_notakeyatallnotakeyatallnotakeyatallnotake');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'This API key is not valid' }).waitFor();
      await capture(page, 'sign-in', (p) => p.getByLabel('API key').waitFor());

      await page.getByLabel('API key').fill(TEST_API_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const cookies = await context.cookies();
      expect(cookies.find((cookie) => cookie.name === 'taskq_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      const stored = await page.evaluate(() => {
        const page = globalThis as unknown as { document: { cookie: string }; localStorage: object; sessionStorage: object };
        return { cookie: page.document.cookie, storage: JSON.stringify({ ...page.localStorage }) + JSON.stringify({ ...page.sessionStorage }) };
      });
      expect(stored.cookie).not.toContain('taskq_session');
      expect(stored.storage).not.toContain(TEST_API_KEY);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
      // The session is gone on the server too: the old cookie no longer works.
      const stale = cookies.find((cookie) => cookie.name === 'taskq_session');
      const answer = await fetch(`${baseUrl}/tasks`, { headers: { cookie: `taskq_session=${stale?.value ?? ''}` } });
      expect(answer.status).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('shows a task submitted over REST live in the list, then its page with its attempts', async () => {
    const { context, page } = await newPage();
    try {
      // A first load: nothing cached, the session cookie already set (signed in through the API).
      expect((await context.request.post(`${baseUrl}/auth/session`, { data: { apiKey: TEST_API_KEY } })).status()).toBe(201);
      const started = Date.now();
      await page.goto(`${baseUrl}/console/tasks`, { waitUntil: 'domcontentloaded' });
      await page.getByRole('heading', { name: 'Tasks' }).waitFor();
      await page.getByText('No task matches these filters yet').or(page.getByRole('table', { name: 'Tasks' })).first().waitFor();
      const firstLoadMs = Date.now() - started;
      console.log(`console: first load of the task list ${firstLoadMs} ms (loopback, chromium headless)`);
      expect(firstLoadMs).toBeLessThan(2_000);

      const id = await submit({ type: 'sleep', payload: { ms: 1_500 } });
      const row = page.locator(`tr[data-task-id="${id}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.getByText('completed').waitFor({ timeout: 20_000 });
      await capture(page, 'tasks', (p) => p.locator(`tr[data-task-id="${id}"]`).waitFor());

      await row.getByRole('link').click();
      await page.getByRole('heading', { name: `Task ${id}` }).waitFor();
      const attempts = page.getByRole('list', { name: 'Attempts' });
      await attempts.getByText('#1').waitFor();
      expect(await attempts.innerText()).toContain('e2e-console-worker');
      await capture(page, 'task', (p) => p.getByRole('list', { name: 'Attempts' }).waitFor());
    } finally {
      await context.close();
    }
  });

  it('retries a dead task from its page and sees it complete', async () => {
    receiverStatus = 500;
    const id = await failingWebhook();
    await waitStatus(id, 'dead');
    const { context, page } = await newPage();
    try {
      await signIn(page, TEST_API_KEY);
      await page.goto(`${baseUrl}/console/tasks/${id}`, { waitUntil: 'domcontentloaded' });
      await page.getByText('dead', { exact: true }).first().waitFor();
      receiverStatus = 200;
      await page.getByRole('button', { name: 'Retry' }).click();
      await page.getByRole('status').filter({ hasText: 'Queued again' }).waitFor();
      // Live: the page follows the task's events to its end.
      await page.locator('dd .badge.completed').waitFor({ timeout: 20_000 });
      expect(await page.getByRole('list', { name: 'Attempts' }).locator('li').count()).toBe(2);
      expect((await readTask(id)).status).toBe('completed');
    } finally {
      await context.close();
    }
  });

  it('requeues a dead-letter group, and its tasks complete', async () => {
    receiverStatus = 500;
    const ids = [await failingWebhook(), await failingWebhook()];
    for (const id of ids) await waitStatus(id, 'dead');
    const { context, page } = await newPage();
    try {
      await signIn(page, TEST_API_KEY);
      await page.goto(`${baseUrl}/console/dead-letters`, { waitUntil: 'domcontentloaded' });
      const group = page.locator('tr[data-group^="webhook:"]');
      await group.getByRole('button', { name: 'Requeue all 2' }).waitFor();
      await capture(page, 'dead-letters', async (p) => {
        await p.locator('tr[data-group^="webhook:"]').getByRole('button', { name: /Show tasks|Hide tasks/ }).first().waitFor();
      });
      await group.getByRole('button', { name: 'Show tasks' }).click();
      for (const id of ids) await page.getByRole('link', { name: id }).waitFor();
      receiverStatus = 200;
      await group.getByRole('button', { name: 'Requeue all 2' }).click();
      await page.getByRole('status').filter({ hasText: 'Requeued 2 tasks of the group' }).waitFor();
      for (const id of ids) await waitStatus(id, 'completed');
      await page.getByText('No dead tasks').waitFor();
    } finally {
      await context.close();
    }
  });

  it('creates, pauses and deletes a schedule', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, TEST_API_KEY);
      await page.getByRole('link', { name: 'Schedules' }).click();
      await page.getByRole('button', { name: 'New schedule' }).click();
      const form = page.getByRole('form', { name: 'New schedule' });
      await form.getByLabel('Name').fill('console-nightly');
      await form.getByLabel('Cron expression').fill('0 3 * * *');
      await form.getByLabel('Time zone (IANA, empty: UTC)').fill('Europe/Paris');
      await form.getByLabel('Task type').selectOption('noop');
      await form.getByRole('button', { name: 'Create schedule' }).click();
      const row = page.locator('tr[data-schedule="console-nightly"]');
      await row.getByText('active', { exact: true }).waitFor();
      await capture(page, 'schedules', (p) => p.locator('tr[data-schedule="console-nightly"]').waitFor());

      await row.getByRole('button', { name: 'Pause' }).click();
      await row.getByText('paused', { exact: true }).first().waitFor();
      const paused = await json<{ enabled: boolean; nextRunAt: string | null }>(await apiFetch(`${baseUrl}/schedules/console-nightly`));
      expect(paused).toMatchObject({ enabled: false, nextRunAt: null });

      await row.getByRole('button', { name: 'Delete' }).click();
      await row.waitFor({ state: 'detached' });
      expect((await apiFetch(`${baseUrl}/schedules/console-nightly`)).status).toBe(404);

      await page.getByRole('link', { name: 'Keys' }).click();
      await capture(page, 'keys', (p) => p.locator('tr[data-key]').first().waitFor());
    } finally {
      await context.close();
    }
  });

  it("offers a read-only key no action, and keeps another tenant's task out of sight", async () => {
    receiverStatus = 500;
    const alphaDead = await failingWebhook(keys.alpha);
    await waitStatus(alphaDead, 'dead');
    const betaTask = await submit({ type: 'noop', payload: {} }, keys.beta);
    await waitStatus(betaTask, 'completed');
    const { context, page } = await newPage();
    try {
      await signIn(page, keys.reader);
      const nav = page.getByRole('navigation', { name: 'Console' });
      expect(await nav.getByRole('link').allInnerTexts()).toEqual(['Overview', 'Tasks', 'Dead letters']);

      await page.goto(`${baseUrl}/console/tasks/${alphaDead}`, { waitUntil: 'domcontentloaded' });
      await page.getByRole('list', { name: 'Attempts' }).waitFor();
      expect(await page.getByRole('button', { name: /Retry|Cancel/ }).count()).toBe(0);

      await page.goto(`${baseUrl}/console/dead-letters`, { waitUntil: 'domcontentloaded' });
      const group = page.locator('tr[data-group^="webhook:"]');
      await group.getByRole('button', { name: 'Show tasks' }).click();
      await page.getByRole('link', { name: alphaDead }).waitFor();
      expect(await page.getByRole('button', { name: /Requeue|Delete/ }).count()).toBe(0);
      expect(await page.getByRole('checkbox').count()).toBe(0);

      await page.goto(`${baseUrl}/console/tasks`, { waitUntil: 'domcontentloaded' });
      await page.locator(`tr[data-task-id="${alphaDead}"]`).waitFor();
      expect(await page.locator(`tr[data-task-id="${betaTask}"]`).count()).toBe(0);
      await page.goto(`${baseUrl}/console/tasks/${betaTask}`, { waitUntil: 'domcontentloaded' });
      await page.getByRole('alert').filter({ hasText: `No task with id "${betaTask}"` }).waitFor();
    } finally {
      await context.close();
    }
  });

  it("charts the hour's work per type on the overview", async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, () => submit({ type: 'noop', payload: {} })));
    for (const id of ids) await waitStatus(id, 'completed');
    const { context, page } = await newPage();
    try {
      await signIn(page, TEST_API_KEY);
      await capture(page, 'overview', async (p) => {
        await p.goto(`${baseUrl}/console/`, { waitUntil: 'domcontentloaded' });
        const noop = p.getByRole('region', { name: 'noop' });
        await noop.getByText('completed').first().waitFor();
        // The figures come from PostgreSQL: at least the dozen just run.
        expect(Number(await noop.locator('.figures strong').first().innerText())).toBeGreaterThanOrEqual(12);
      });
      expect(await page.getByRole('img', { name: /per minute/ }).count()).toBeGreaterThan(5);
    } finally {
      await context.close();
    }
  });
});
