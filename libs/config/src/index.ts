export * from './load-config';
export * from './common-config';
export * from './api-config';
export * from './worker-config';
export * from './monitor-config';
export * from './startup-failure';
export * from './wait-at-startup';
export * from './redact-url';
