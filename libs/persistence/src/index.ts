export * from './entities';
export * from './migrations';
export * from './database';
export * from './batch-writer';
export * from './task-store';
export * from './task-queries';
export * from './task-preparation';
export * from './schedule-store';
