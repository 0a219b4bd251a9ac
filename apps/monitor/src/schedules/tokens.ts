/** Injection token of the schedules module's producer-side Redis connection. */
export const SCHEDULES_REDIS = Symbol('SCHEDULES_REDIS');
