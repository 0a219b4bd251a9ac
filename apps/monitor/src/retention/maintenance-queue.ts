/**
 * WARNING: stored in Redis. The monitor's queue of maintenance jobs, the id of the job
 * scheduler that adds the retention job to it, and that job's name. Renaming one leaves the
 * old scheduler behind in Redis, still adding jobs that nothing processes.
 */
export const MAINTENANCE_QUEUE = '{maintenance}';
export const RETENTION_SCHEDULER_ID = 'retention';
export const RETENTION_JOB = 'retention';
