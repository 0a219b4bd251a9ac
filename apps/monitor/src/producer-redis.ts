/**
 * Injection token of the monitor's producer-side Redis connection (fails fast, no offline
 * queue), shared by the task producer, the dead-letter mirror, the schedules' and the
 * maintenance queue, and the reconciler. Workers and event readers have their own.
 */
export const PRODUCER_REDIS = Symbol('PRODUCER_REDIS');
