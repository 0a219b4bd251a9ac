import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { TaskQueries } from '@taskq/persistence';
import { DeadLetterMirror } from '@taskq/queue';

/**
 * Rebuilds the dead-letter mirror queue from PostgreSQL at start-up, so Bull Board shows
 * the DLQ even after Redis lost its data (the monitor's reconciler rebuilds it too, when it
 * finds it lost). Failure only costs the mirror: it is logged.
 */
@Injectable()
export class DeadLetterSync implements OnApplicationBootstrap {
  private readonly logger = new Logger('DeadLetters');

  constructor(
    private readonly queries: TaskQueries,
    private readonly mirror: DeadLetterMirror,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const { added, removed } = await this.mirror.sync(await this.queries.deadLetterEntries());
      if (added || removed) this.logger.log(`dead-letter mirror re-synced from PostgreSQL: ${added} added, ${removed} removed`);
    } catch (error) {
      this.logger.warn(`could not sync the dead-letter mirror: ${(error as Error).message}`);
    }
  }
}
