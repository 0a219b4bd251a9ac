export * from './wait-for';
export * from './isolation';
export * from './app-process';
export * from './redis-server';
export * from './prometheus-text';
export * from './api-key';
export * from './postgres-server';
export * from './tcp-proxy';
