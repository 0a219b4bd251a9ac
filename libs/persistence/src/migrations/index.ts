import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { Schedules1764000000000 } from './1764000000000-schedules';

/** In order. Never edit a migration that has shipped: add a new one. */
export const MIGRATIONS = [InitialSchema1763800000000, Schedules1764000000000];
