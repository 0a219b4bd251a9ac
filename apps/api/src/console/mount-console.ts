import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException } from '../errors/problem.exception';
import { sendProblem } from '../errors/problem-details.filter';

export const CONSOLE_PATH = '/console';

/** The console's pages load only their own files and talk only to this API. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/**
 * Serves the console's build (apps/console, built by Vite into `dir`) at /console. Paths that
 * are not files are the console's own pages: they get index.html, and its router takes over.
 * Without a build, /console answers 404 saying how to make one.
 */
export function mountConsole(app: NestFastifyApplication, dir: string): void {
  const root = resolve(dir);
  const fastify = app.getHttpAdapter().getInstance();
  if (!existsSync(resolve(root, 'index.html'))) {
    const notBuilt = ProblemException.notFound(`The console is not built (no ${root}/index.html): run "npm run build".`).problem;
    fastify.get(CONSOLE_PATH, (_request, reply) => sendProblem(reply, notBuilt));
    fastify.get(`${CONSOLE_PATH}/*`, (_request, reply) => sendProblem(reply, notBuilt));
    return;
  }
  const missingAsset = ProblemException.notFound('No such file in the console\'s build.').problem;
  // Its own plugin: registered with the others when the app starts, and sendFile stays in it.
  void fastify.register(async (instance) => {
    await instance.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PATH}/`,
      index: false,
      wildcard: false,
      // Vite names its assets by content hash: they never change, so browsers keep them.
      setHeaders: (response, path) => {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) void response.header(name, value);
        void response.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    const page = (request: FastifyRequest, reply: FastifyReply): FastifyReply | void => {
      if (request.url.startsWith(`${CONSOLE_PATH}/assets/`)) return sendProblem(reply, missingAsset);
      return reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').sendFile('index.html');
    };
    instance.get(CONSOLE_PATH, page);
    instance.get(`${CONSOLE_PATH}/*`, page);
  });
}
