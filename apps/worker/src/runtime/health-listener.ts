import { createServer, type Server } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WorkerConfig } from '@taskq/config';
import { QueueWorkersService } from './queue-workers.service';

/** The worker has no HTTP API: this small listener answers health probes only. */
@Injectable()
export class HealthListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private readonly logger = new Logger('Health');

  constructor(
    private readonly workers: QueueWorkersService,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort < 0) return;
    this.server = createServer((request, response) => {
      if (request.url === '/health') {
        const healthy = this.workers.running;
        response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ status: healthy ? 'ok' : 'stopping' }));
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(this.config.metricsPort, resolve));
    const address = this.server.address();
    this.logger.log(`health on port ${typeof address === 'object' && address ? address.port : this.config.metricsPort}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
