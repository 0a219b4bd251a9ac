import { readFileSync } from 'node:fs';
import { UsageError } from '../exit-codes';

/** `--payload '{"ms":100}'` or `--payload @file.json`: a JSON object. */
export function payloadArgument(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {};
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`--payload ${value}: ${(error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--payload is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--payload must be a JSON object');
  return parsed as Record<string, unknown>;
}

export function integerArgument(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number (got "${value}")`);
    return Number(value);
  };
}
