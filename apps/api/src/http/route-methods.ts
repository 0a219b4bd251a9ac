import type { FastifyInstance } from 'fastify';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Which methods the API serves on a path, learnt from the routes as they are registered
 * (Fastify `onRoute`): a request for a known path with another method gets 405 and an
 * `Allow` header instead of a 404.
 */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; method: string }> = [];

  /** Call before the routes are registered (before `app.init()`). */
  static collect(instance: FastifyInstance): RouteMethods {
    const table = new RouteMethods();
    instance.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) table.add(method, route.url ?? route.path);
    });
    return table;
  }

  add(method: string, url: string): void {
    // `:name` matches one segment; `*` (wildcard routes such as the board's static files) the rest.
    const source = url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : escapeRegExp(segment)))
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}/?$`), method: method.toUpperCase() });
  }

  allowedFor(path: string): string[] {
    return [...new Set(this.routes.filter((route) => route.pattern.test(path)).map((route) => route.method))].sort();
  }
}
