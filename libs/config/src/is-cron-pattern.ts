import { CronExpressionParser } from 'cron-parser';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Why `pattern` is not a cron pattern BullMQ's job schedulers accept, or null when it is. */
export function cronPatternError(pattern: unknown): string | null {
  if (typeof pattern !== 'string' || pattern.trim() === '') return 'must be a cron pattern';
  // BullMQ evaluates job scheduler patterns with this same parser (cron-parser 5).
  try {
    CronExpressionParser.parse(pattern, { tz: 'UTC' }).next();
    return null;
  } catch (error) {
    return `must be a cron pattern such as "0 3 * * *" (${(error as Error).message})`;
  }
}

export function IsCronPattern(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCronPattern',
      validator: {
        validate: (value: unknown) => cronPatternError(value) === null,
        defaultMessage: (args) => cronPatternError(args?.value) ?? 'must be a cron pattern',
      },
    },
    options,
  );
}
