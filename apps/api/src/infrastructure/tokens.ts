/** Injection token of the API's producer-side Redis connection. */
export const PRODUCER_REDIS = Symbol('PRODUCER_REDIS');
