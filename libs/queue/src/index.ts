export * from './queue-names';
export * from './redis-connection';
export * from './task-job';
export * from './task-producer';
export * from './cancel-channel';
export * from './dead-letter-queue';
export * from './schedule-queue';
export * from './with-timeout';
