import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { TASK_TYPE_NAMES, type SubmitTaskResponse, type TaskView } from '@taskq/contracts';
import { apiFetch, deleteRedisPrefix, TEST_REDIS_URL, testDatabase, uniquePrefix, waitFor, waitForHttp, type AppProcess } from '@taskq/testing';
import { WORKSPACE_ROOT, freePort, startBuiltApp } from '../support/built-apps';

/**
 * Bull Board in a real browser (Debian's chromium driven by playwright-core) against the
 * built api and worker processes: the admin sees the queues and opens a failed job with its
 * retry button and its link to the task; the viewer sees the job without any action; a
 * browser without credentials gets 401. Screenshots go to test-output/board/.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(WORKSPACE_ROOT, 'test-output', 'board');
const ADMIN = { username: 'board-admin', password: 'admin: correct horse' };
const VIEWER = { username: 'board-viewer', password: 'viewer-battery-staple' };
const QUEUES = [...TASK_TYPE_NAMES, 'dead-letter'];
const SLEEP = encodeURIComponent('{sleep}');
/** Job actions the viewer must never be offered (tooltips of the job's icon buttons, queue buttons and menus). */
const MUTATING = /retry|clean|promote|remove|delete|duplicate|update data|add job|pause|resume|empty|obliterate|concurrency|rate limit|priority|reschedule/i;

const db = testDatabase('e2e_board');
const prefix = uniquePrefix('e2e-board');
const WORKER_ID = 'e2e-board-worker';
let api: AppProcess;
let worker: AppProcess;
let baseUrl: string;
let browser: Browser | undefined;
let deadId: string;

const boardUrl = (path = ''): string => `${baseUrl}/admin/queues${path}`;
const basic = ({ username, password }: { username: string; password: string }): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function newPage(credentials?: { username: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  if (!browser) throw new Error('the browser did not start');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...(credentials ? { httpCredentials: credentials } : {}) });
  context.setDefaultTimeout(15_000);
  return { context, page: await context.newPage() };
}

const screenshot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** The job's icon buttons (retry, duplicate, update data, clean…) are named only by their tooltips: hover each and read it. */
async function jobActionTitles(page: Page): Promise<string[]> {
  const buttons = page.locator('[class*="jobActions-"] button');
  const titles: string[] = [];
  for (let i = 0; i < (await buttons.count()); i++) {
    await buttons.nth(i).hover();
    const tooltip = page.locator('[data-base-ui-portal] [role="presentation"][data-open]');
    titles.push((await tooltip.last().innerText()).trim());
    await page.mouse.move(0, 0);
    await tooltip.last().waitFor({ state: 'detached' });
  }
  return titles;
}

/** Names of every visible button: its text, or for an icon button its label or title. */
async function buttonNames(scope: Page | Locator): Promise<string[]> {
  return scope
    .locator('button:visible')
    .evaluateAll((buttons) => buttons.map((b) => [(b as unknown as { innerText: string }).innerText, b.getAttribute('aria-label'), b.getAttribute('title')].filter(Boolean).join(' ').trim()));
}

beforeAll(async () => {
  // Never download a browser, and never skip quietly: say how to get the one this test uses.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this browser test drives Debian's chromium. Install it with \`apt-get install chromium\` (bash .ci/run does it).`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });

  const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, NODE_ENV: 'test' };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startBuiltApp('api', {
    ...env,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    BOARD_ADMIN_USER: ADMIN.username,
    BOARD_ADMIN_PASSWORD: ADMIN.password,
    BOARD_VIEWER_USER: VIEWER.username,
    BOARD_VIEWER_PASSWORD: VIEWER.password,
  });
  await waitForHttp(`${baseUrl}/health/ready`, api);
  // info: the start-up line tells when the worker serves its queues.
  worker = startBuiltApp('worker', { ...env, LOG_LEVEL: 'info', METRICS_PORT: '0', WORKER_ID, SHUTDOWN_TIMEOUT_MS: '5000' });
  await waitFor(() => worker.child.exitCode !== null || worker.output().includes(`taskq worker ${WORKER_ID} started`), { timeoutMs: 30_000, description: 'worker started' });
  if (worker.child.exitCode !== null) throw new Error(`worker exited with ${worker.child.exitCode}:\n${worker.output()}`);

  // A failed job for real: the only attempt outlives its 100 ms deadline, the task is dead.
  const submitted = await apiFetch(`${baseUrl}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', payload: { ms: 5_000 }, timeoutMs: 100, maxAttempts: 1 }),
  });
  expect(submitted.status).toBe(202);
  deadId = ((await submitted.json()) as SubmitTaskResponse).id;
  await waitFor(async () => ((await (await apiFetch(`${baseUrl}/tasks/${deadId}`)).json()) as TaskView).status === 'dead', { timeoutMs: 20_000, description: `task ${deadId} dead` });
  // The worker acknowledges the job after recording the death: wait until Bull Board lists it as failed.
  await waitFor(
    async () => {
      const response = await fetch(boardUrl(`/api/queues?activeQueue=${SLEEP}&status=failed&page=1&jobsPerPage=10`), { headers: { authorization: basic(ADMIN) } });
      const { queues } = (await response.json()) as { queues: Array<{ name: string; jobs: Array<{ id: string }> }> };
      return queues.find((queue) => queue.name === '{sleep}')?.jobs.some((job) => job.id === deadId);
    },
    { timeoutMs: 10_000, description: `job ${deadId} failed in the board` },
  );

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  const started = [worker, api].filter((app): app is AppProcess => app !== undefined);
  const codes = await Promise.all(started.map((app) => app.stop()));
  await deleteRedisPrefix(prefix);
  await db.drop();
  expect(codes).toEqual(started.map(() => 0));
});

describe('Bull Board in a browser', () => {
  it('as admin: sees every queue, opens the failed job, and finds its retry button and its link to the task', async () => {
    const { context, page } = await newPage(ADMIN);
    try {
      const response = await page.goto(boardUrl(), { waitUntil: 'domcontentloaded' });
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('taskq');
      for (const queue of QUEUES) await page.locator(`a[title="{${queue}}"]`).waitFor();
      await page.getByText('1 Job').first().waitFor();
      await screenshot(page, 'admin-queues');

      // Open the failed job the way an operator does: queue, Failed tab, job.
      await page.locator('a[title="{sleep}"]').click();
      await page.locator(`a[href$="/queue/${SLEEP}?status=failed"]`).first().click();
      await page.getByRole('button', { name: 'Retry all' }).waitFor();
      expect(await buttonNames(page)).toEqual(expect.arrayContaining(['Retry all', 'Clean all']));
      await page.locator(`a[href*="/queue/${SLEEP}/${deadId}"]`).first().click();
      await page.waitForURL(new RegExp(`/admin/queues/queue/${SLEEP}/${deadId}`));
      await page.getByText('timed out after 100 ms').first().waitFor();

      const taskLink = page.locator(`a[href="/tasks/${deadId}"]`);
      await taskLink.waitFor();
      expect(await taskLink.innerText()).toBe('Task details');
      expect(await jobActionTitles(page)).toEqual(expect.arrayContaining(['Retry', 'Clean']));
      await screenshot(page, 'admin-failed-job');
      await page.getByRole('tab', { name: 'Data' }).click();
      const data = page.locator('[role="tabpanel"]:visible');
      await waitFor(async () => (await data.innerText()).includes('taskId'), { description: 'job data shown' });
      expect(await data.innerText()).toContain(deadId);
      await screenshot(page, 'admin-failed-job-data');

      // The link opens the task in the REST API (a new tab).
      const [taskPage] = await Promise.all([context.waitForEvent('page'), taskLink.click()]);
      await taskPage.waitForLoadState('domcontentloaded');
      expect(taskPage.url()).toBe(`${baseUrl}/tasks/${deadId}`);
      expect(JSON.parse(await taskPage.locator('body').innerText())).toMatchObject({ id: deadId, type: 'sleep', status: 'dead', attempts: [{ outcome: 'timed_out' }] });
    } finally {
      await context.close();
    }
  });

  it('as viewer: sees the failed job, but no retry, clean or any other action', async () => {
    const { context, page } = await newPage(VIEWER);
    try {
      const response = await page.goto(boardUrl(), { waitUntil: 'domcontentloaded' });
      expect(response?.status()).toBe(200);
      for (const queue of QUEUES) await page.locator(`a[title="{${queue}}"]`).waitFor();
      await page.getByText('1 Job').first().waitFor();
      // The overview's menu keeps only the sort order.
      await page.locator('button[aria-haspopup="menu"]').first().click();
      const menu = await page.locator('[role="menu"][data-open]').innerText();
      expect(menu).toContain('Sort by');
      expect(menu).not.toMatch(MUTATING);
      await page.keyboard.press('Escape');

      await page.goto(boardUrl(`/queue/${SLEEP}?status=failed`), { waitUntil: 'domcontentloaded' });
      await page.locator(`a[href*="/queue/${SLEEP}/${deadId}"]`).first().waitFor();
      expect(await page.locator('[class*="jobActions-"] button').count()).toBe(0);
      expect((await buttonNames(page)).filter((name) => MUTATING.test(name))).toEqual([]);
      await page.locator(`a[href*="/queue/${SLEEP}/${deadId}"]`).first().click();
      await page.getByText('timed out after 100 ms').first().waitFor();
      await page.locator(`a[href="/tasks/${deadId}"]`).waitFor();

      expect(await page.locator('[class*="jobActions-"] button').count()).toBe(0);
      expect(await page.locator('button[aria-haspopup="menu"]').count()).toBe(0);
      const names = await buttonNames(page);
      expect(names.filter((name) => MUTATING.test(name))).toEqual([]);
      await screenshot(page, 'viewer-failed-job');
    } finally {
      await context.close();
    }
  });

  it('without credentials: 401 with a basic-auth challenge, for the page and its API; wrong credentials: 401 too', async () => {
    const { context, page } = await newPage();
    try {
      // Headless chromium has nobody to show the login prompt to: it answers the challenge by
      // failing the navigation, after the 401 arrived (so the page stays blank: the screenshot
      // of a 401 is taken below, with a wrong password, where the browser shows the body).
      const [response, navigation] = await Promise.all([
        page.waitForResponse(boardUrl()),
        page.goto(boardUrl(), { waitUntil: 'domcontentloaded' }).then(
          () => 'loaded',
          (error: Error) => error.message,
        ),
      ]);
      expect(response.status()).toBe(401);
      expect(response.headers()['www-authenticate']).toBe('Basic realm="taskq board", charset="UTF-8"');
      expect(navigation).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);

      const api = await context.request.get(boardUrl('/api/queues'));
      expect(api.status()).toBe(401);
      expect(await api.json()).toMatchObject({ type: '/problems/unauthorized', status: 401 });
    } finally {
      await context.close();
    }

    const wrong = await newPage({ username: ADMIN.username, password: 'not the password' });
    try {
      const response = await wrong.page.goto(boardUrl(), { waitUntil: 'domcontentloaded' });
      expect(response?.status()).toBe(401);
      expect(JSON.parse(await wrong.page.locator('body').innerText())).toMatchObject({ type: '/problems/unauthorized', status: 401 });
      await screenshot(wrong.page, 'wrong-password-401');
    } finally {
      await wrong.context.close();
    }
  });
});
