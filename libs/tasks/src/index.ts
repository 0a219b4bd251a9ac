export * from './attempt-budget';
export * from './task-preparation';
export * from './task-job-spec';
export * from './task-admission';
export * from './task-requeue';
export * from './task-services.module';
export * from './task-events';
export * from './outbound-address-guard';
