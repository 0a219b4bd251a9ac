import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WorkerConfig } from '@taskq/config';
import { CancelSubscriber, createRedisConnection } from '@taskq/queue';
import { RunningAttempts } from './running-attempts';

/** Receives the API's cancellations and aborts the attempt if this process runs it. */
@Injectable()
export class CancelListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Cancel');
  private subscriber?: CancelSubscriber;

  constructor(
    private readonly running: RunningAttempts,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = await CancelSubscriber.subscribe(createRedisConnection(this.config.redisUrl, 'worker'), this.config.queuePrefix);
    this.subscriber.onCancel((taskId) => {
      if (this.running.cancel(taskId)) this.logger.log(`task ${taskId}: cancelled while running, attempt aborted`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.close();
  }
}
