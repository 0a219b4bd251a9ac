export * from './taskq-metrics';
export * from './metrics-listener';
export * from './logger-params';
export * from './app-logger';
export * from './throttled-log';
export * from './finish-start';
export * from './tracing';
