import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** From now on, nothing passes in either direction: connections stay open, answers never come (a hung server, a partition). */
  freeze(): void;
  /** From now on, requests still reach the server but its answers are dropped (a commit whose answer is lost). */
  dropAnswers(): void;
  /** Closes every open connection (new ones pass again, both ways): the client sees its requests fail. */
  cut(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `targetPort`, for tests that need a dependency to hang rather than
 * refuse: point one process at the proxy, then freeze it.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let frozen = false;
  let answersDropped = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || answersDropped || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the proxy has no port');
  return {
    port: address.port,
    freeze: () => {
      frozen = true;
    },
    dropAnswers: () => {
      answersDropped = true;
    },
    cut: () => {
      for (const socket of sockets) socket.destroy();
      frozen = false;
      answersDropped = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
