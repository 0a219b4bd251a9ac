import { readFileSync } from 'node:fs';
import { Expose, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

export type Env = Record<string, string | undefined>;

/** A configuration that cannot be used; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * `FOO_FILE=/run/secrets/foo` provides FOO from a file (Docker/Kubernetes secrets).
 * An explicit FOO wins over FOO_FILE.
 */
export function resolveFileVariables(env: Env, variables: Iterable<string>): Env {
  const resolved: Env = { ...env };
  for (const base of variables) {
    const key = `${base}_FILE`;
    const path = env[key];
    if (!path || (resolved[base] !== undefined && resolved[base] !== '')) continue;
    try {
      resolved[base] = readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  return resolved;
}

/**
 * Reads one app's configuration from the environment, once, at start-up.
 * Properties are mapped from variables with `@Env('VAR')`; initialisers are defaults.
 */
export function loadConfig<T extends object>(configClass: new () => T, env: Env = process.env): T {
  const source = Object.fromEntries(Object.entries(resolveFileVariables(env, declaredVariables(configClass))).filter(([, value]) => value !== ''));
  const config = plainToInstance(configClass, source, { excludeExtraneousValues: true, exposeDefaultValues: true });
  applyDerivedDefaults(config);
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length > 0) {
    const details = errors.map((error) => {
      const variable = variableName(configClass, error.property);
      return `${variable}=${shownValue(variable, source[variable])}: ${Object.values(error.constraints ?? {}).join(', ')}`;
    });
    throw new ConfigError(`invalid configuration: ${details.join('; ')}`);
  }
  return config;
}

/** Secrets never appear in messages; URLs lose their password. */
function shownValue(variable: string, value: string | undefined): string {
  if (value === undefined) return 'null';
  if (/(PASSWORD|SECRET|TOKEN|_KEY)$/.test(variable)) return '(hidden)';
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      return JSON.stringify(url.toString());
    }
  } catch {
    // not a URL
  }
  return JSON.stringify(value);
}

const derivedDefaults = new WeakMap<object, Map<string, (config: object) => unknown>>();

/**
 * A default that depends on other settings (e.g. on NODE_ENV), applied once every variable is
 * read, to a property whose variable is unset.
 */
export function DerivedDefault<T extends object>(derive: (config: T) => unknown): PropertyDecorator {
  return (target, property) => {
    const defaults = derivedDefaults.get(target.constructor) ?? new Map<string, (config: object) => unknown>();
    defaults.set(String(property), derive as (config: object) => unknown);
    derivedDefaults.set(target.constructor, defaults);
  };
}

function applyDerivedDefaults(config: object): void {
  const settings = config as Record<string, unknown>;
  for (let proto: object | null = config.constructor; proto; proto = Object.getPrototypeOf(proto)) {
    for (const [property, derive] of derivedDefaults.get(proto) ?? []) {
      if (settings[property] === undefined) settings[property] = derive(config);
    }
  }
}

const variableNames = new WeakMap<object, Map<string, string>>();

/** Maps a config property to its environment variable. */
export function Env(variable: string): PropertyDecorator {
  return (target, property) => {
    const names = variableNames.get(target.constructor) ?? new Map<string, string>();
    names.set(String(property), variable);
    variableNames.set(target.constructor, names);
    Expose({ name: variable })(target, property);
  };
}

function declaredVariables(configClass: new () => object): Set<string> {
  const names = new Set<string>();
  for (let proto: object | null = configClass; proto; proto = Object.getPrototypeOf(proto)) {
    for (const name of variableNames.get(proto)?.values() ?? []) names.add(name);
  }
  return names;
}

function variableName(configClass: new () => object, property: string): string {
  for (let proto: object | null = configClass; proto; proto = Object.getPrototypeOf(proto)) {
    const name = variableNames.get(proto)?.get(property);
    if (name) return name;
  }
  return property;
}
