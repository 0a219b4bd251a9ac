import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { Schedules1764000000000 } from './1764000000000-schedules';
import { RetentionIndex1764000100000 } from './1764000100000-retention-index';
import { InterruptedAttempts1764000200000 } from './1764000200000-interrupted-attempts';
import { ApiKeys1764000300000 } from './1764000300000-api-keys';
import { TenantIndexes1764000400000 } from './1764000400000-tenant-indexes';
import { LostAttempts1764000500000 } from './1764000500000-lost-attempts';
import { TaskProgress1764000600000 } from './1764000600000-task-progress';
import { Callbacks1764000700000 } from './1764000700000-callbacks';
import { TaskStats1764000800000 } from './1764000800000-task-stats';
import { ConsoleSessions1764000900000 } from './1764000900000-console-sessions';

/** In order. Never edit a migration that has shipped: add a new one. */
export const MIGRATIONS = [
  InitialSchema1763800000000,
  Schedules1764000000000,
  RetentionIndex1764000100000,
  InterruptedAttempts1764000200000,
  ApiKeys1764000300000,
  TenantIndexes1764000400000,
  LostAttempts1764000500000,
  TaskProgress1764000600000,
  Callbacks1764000700000,
  TaskStats1764000800000,
  ConsoleSessions1764000900000,
];
