import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  /** Kills the server at once (SIGKILL), as a crashed host would go. */
  kill(): Promise<void>;
}

export interface PrivateRedisCluster {
  /** `redis-cluster://127.0.0.1:p1,...` naming every master it started with. */
  url: string;
  nodes: ClusterNode[];
  /** The node serving a slot as master right now (after a fail-over, a former replica). */
  masterOf(slot: number): Promise<ClusterNode>;
  /** Every node killed and started again on its port: the cluster comes back with its slots and no data. */
  restartEmpty(): Promise<void>;
  /** Waits until every slot is served and every live node agrees the cluster is ok. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `CLUSTER SLOTS` of a live node: [start, end, [host, port, id], ...replicas]. */
type SlotRange = [number, number, [string, number, string], ...Array<[string, number, string]>];

/**
 * A throw-away Redis Cluster on loopback ports: `masters` masters, each with `replicas`
 * replicas, joined by `redis-cli --cluster create`. Nothing is kept on disk but each node's
 * cluster configuration (in a temporary directory), so a restarted node rejoins empty.
 * A short node timeout makes fail-overs take about a second or two, as tests want.
 */
export async function startPrivateRedisCluster(options: { masters?: number; replicas?: number } = {}): Promise<PrivateRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const count = masters * (1 + replicas);
  const dir = mkdtempSync(join(tmpdir(), 'taskq-redis-cluster-'));
  let ports: number[] = [];
  const children = new Map<number, ChildProcess>();

  const start = (port: number): void => {
    const child = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
        '--maxmemory-policy', 'noeviction', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
  };
  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  };
  const command = async <T>(port: number, ...args: [string, ...Array<string | number>]): Promise<T> => {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.call(...args)) as T;
    } finally {
      client.disconnect();
    }
  };
  const live = (): number[] => ports.filter((port) => children.get(port)?.exitCode === null && children.get(port)?.signalCode === null);

  const waitUntilOk = async (timeoutMs = 30_000): Promise<void> => {
    await waitFor(
      async () => {
        for (const port of live()) {
          const info = await command<string>(port, 'CLUSTER', 'INFO');
          if (!info.includes('cluster_state:ok')) return false;
          const replication = await command<string>(port, 'INFO', 'replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      { timeoutMs, description: `the Redis Cluster on ${ports.join(',')} ok` },
    );
  };

  const cluster: PrivateRedisCluster = {
    get url() {
      return `redis-cluster://${ports.slice(0, masters).map((port) => `127.0.0.1:${port}`).join(',')}`;
    },
    get nodes() {
      return ports.map((port) => ({ port, kill: () => kill(port) }));
    },
    async masterOf(slot) {
      const [port] = live();
      if (port === undefined) throw new Error('no live node in the cluster');
      const ranges = await command<SlotRange[]>(port, 'CLUSTER', 'SLOTS');
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const node = cluster.nodes.find((candidate) => candidate.port === range?.[2][1]);
      if (!node) throw new Error(`no master serves slot ${slot}`);
      return node;
    },
    async restartEmpty() {
      await Promise.all(ports.map(kill));
      for (const port of ports) start(port);
      await waitUntilOk();
    },
    waitUntilOk,
    async stop() {
      await Promise.all(ports.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (let attempt = 1; ; attempt++) {
      // Data ports 12000-21999 and their bus ports (+10000) stay below Linux's ephemeral range,
      // where outgoing connections would take them.
      const base = 12_000 + Math.floor(Math.random() * 1_000) * 10;
      ports = Array.from({ length: count }, (_, index) => base + index);
      for (const port of ports) start(port);
      const answering = await waitFor(
        async () => {
          if (live().length < count) return 'port taken';
          const replies = await Promise.all(ports.map((port) => command<string>(port, 'PING').catch(() => null)));
          return replies.every((reply) => reply === 'PONG') ? 'ok' : undefined;
        },
        { timeoutMs: 10_000, description: `${count} redis-server cluster nodes answering` },
      );
      if (answering === 'ok') break;
      await Promise.all(ports.map(kill));
      if (attempt === 5) throw new Error('could not find free ports for a private Redis Cluster');
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    await waitUntilOk();
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
