import { QueueUnavailableError } from '@taskq/queue';
import { dependencyOutageOf } from './dependency-outage';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe(dependencyOutageOf.name, () => {
  it.each([
    ['the database dropped', withCode('database "x" does not exist', '3D000'), 'PostgreSQL'],
    ['a terminated connection', withCode('terminating connection due to administrator command', '57P01'), 'PostgreSQL'],
    ['a connection failure', withCode('connection failure', '08006'), 'PostgreSQL'],
    ['a pool timeout', new Error('timeout exceeded when trying to connect'), 'PostgreSQL'],
    ['a driver error kept by TypeORM', Object.assign(new Error('query failed'), { driverError: new Error('Connection terminated unexpectedly') }), 'PostgreSQL'],
    ['the producer refusing', new QueueUnavailableError('could not queue'), 'Redis'],
    ['ioredis without its offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'Redis'],
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 'a backing service'],
    ['a cause', new Error('wrapped', { cause: withCode('gone', '57P01') }), 'PostgreSQL'],
  ])('recognises %s', (_case, error, dependency) => {
    expect(dependencyOutageOf(error)).toBe(dependency);
  });

  it.each([
    ['a missing table', withCode('relation "tasks" does not exist', '42P01')],
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error', 'text'],
  ])('takes %s for a failure of the server, not of a store', (_case, error) => {
    expect(dependencyOutageOf(error)).toBeNull();
  });
});
