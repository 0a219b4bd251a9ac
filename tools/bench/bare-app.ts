/**
 * Baseline for the API benchmark: a bare NestJS app on the same Fastify adapter, started the
 * same way as the real API (`node -r ./runtime-paths.cjs dist/tools/bench/bare-app.js`).
 * One POST route that answers 202 with a small JSON body: no validation, no I/O.
 * GET /health exists only so the bench knows when it listens.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

@Controller()
class BareController {
  @Post('submit-task')
  @HttpCode(202)
  submit(): { id: string; type: string; status: string; createdAt: string } {
    return { id: randomUUID(), type: 'noop', status: 'queued', createdAt: new Date().toISOString() };
  }

  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter(), { logger: ['fatal', 'error', 'warn'] });
  // Closed by hand rather than by enableShutdownHooks: Nest's hooks re-raise the signal once
  // closed, and a process ended by a signal writes no --cpu-prof profile.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app.close().finally(() => process.exit(0));
    });
  }
  await app.listen({ port: Number(process.env['PORT'] ?? 3100), host: process.env['HOST'] ?? '127.0.0.1' });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench bare app: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
