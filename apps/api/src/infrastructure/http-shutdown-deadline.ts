import type { Server } from 'node:http';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiConfig } from '@taskq/config';

/**
 * On SIGTERM the HTTP server stops accepting and waits for in-flight requests. This puts a
 * deadline on that wait (SHUTDOWN_TIMEOUT_MS): requests still open then are cut off, so a
 * stuck client cannot keep the process alive.
 */
@Injectable()
export class HttpShutdownDeadline implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApiConfig,
  ) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    this.timer = setTimeout(() => {
      this.logger.warn(`requests still open after ${this.config.shutdownTimeoutMs} ms: closing their connections`);
      server.closeAllConnections();
    }, this.config.shutdownTimeoutMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }
}
