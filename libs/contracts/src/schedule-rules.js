"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MAX_CRON_LENGTH = exports.SCHEDULE_NAME_PATTERN = void 0;
exports.cronExpressionProblem = cronExpressionProblem;
exports.isIanaTimeZone = isIanaTimeZone;
const cron_parser_1 = require("cron-parser");
/**
 * A schedule's name: its id in the API, in PostgreSQL and in Redis.
 * WARNING: stored in PostgreSQL (schedules.name, tasks.schedule_name) and in Redis (BullMQ
 * job scheduler ids and run job ids): keep the pattern free of `:`, which BullMQ uses in keys.
 */
exports.SCHEDULE_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
exports.MAX_CRON_LENGTH = 200;
const NEVER_FIRES_HORIZON_MS = 9 * 366 * 24 * 3_600_000;
/** The shorthands cron-parser (and so BullMQ) expands. */
const CRON_ALIASES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@secondly', '@weekdays', '@weekends'];
// Jenkins-style `H` picks a random value per parse unless seeded, so BullMQ would move the
// schedule around every time it computes the next run.
const HASH_TOKEN = /(^|[,\s])H(?=$|[\s/(,])/i;
/**
 * Why `expression` is not a cron expression BullMQ can run, or null when it is. Accepted:
 * 5 fields (minute hour day-of-month month day-of-week), 6 fields (seconds first) or one of
 * the `@daily`-style shorthands. cron-parser alone would also take 1 to 4 fields (padding
 * the rest with `*`) and an empty string (every minute): both are more likely mistakes.
 */
function cronExpressionProblem(expression) {
    if (typeof expression !== 'string')
        return 'cron must be a string';
    const trimmed = expression.trim();
    if (trimmed !== expression || trimmed === '')
        return 'cron must be a cron expression without leading or trailing spaces';
    if (trimmed.length > exports.MAX_CRON_LENGTH)
        return `cron must be at most ${exports.MAX_CRON_LENGTH} characters`;
    if (trimmed.startsWith('@')) {
        return CRON_ALIASES.includes(trimmed) ? null : `cron shorthand must be one of ${CRON_ALIASES.join(', ')}`;
    }
    const fields = trimmed.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
        return `cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); got ${fields}`;
    }
    if (HASH_TOKEN.test(trimmed))
        return 'cron must not use H (hashed values are not supported)';
    try {
        // The horizon bounds the search (unbounded, cron-parser spends ~0.3 s before giving up)
        // and still covers the rarest real expression: 29 February, 8 years apart at worst.
        const now = Date.now();
        cron_parser_1.CronExpressionParser.parse(trimmed, { currentDate: new Date(now), endDate: new Date(now + NEVER_FIRES_HORIZON_MS) }).next();
    }
    catch (error) {
        const reason = error.message;
        return /loop limit|time span/i.test(reason) ? 'cron never fires (no date matches it)' : `cron is not a valid cron expression: ${reason}`;
    }
    return null;
}
/** True for an IANA time zone name this runtime knows (`Europe/Paris`, `UTC`); offsets such as `+02:00` are not zones. */
function isIanaTimeZone(zone) {
    if (typeof zone !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]{0,99}$/.test(zone))
        return false;
    try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=schedule-rules.js.map