import { RouteMethods } from './route-methods';

describe(RouteMethods.name, () => {
  const sut = new RouteMethods();
  sut.add('GET', '/tasks');
  sut.add('HEAD', '/tasks');
  sut.add('POST', '/tasks');
  sut.add('POST', '/tasks/:id/retry');
  sut.add('GET', '/tasks/:id');
  sut.add('DELETE', '/keys/:prefix');
  sut.add('GET', '/admin/queues/static/*');

  it('lists the methods of every route whose pattern matches the path', () => {
    expect(sut.allowedFor('/tasks')).toEqual(['GET', 'HEAD', 'POST']);
    expect(sut.allowedFor('/tasks/')).toEqual(['GET', 'HEAD', 'POST']);
    expect(sut.allowedFor('/tasks/abc/retry')).toEqual(['POST']);
    expect(sut.allowedFor('/keys/AbCdEfGhIjKl')).toEqual(['DELETE']);
    expect(sut.allowedFor('/admin/queues/static/js/app.js')).toEqual(['GET']);
  });

  it('knows no method for a path no route has', () => {
    expect(sut.allowedFor('/tasks/abc/retry/now')).toEqual([]);
    expect(sut.allowedFor('/keys')).toEqual([]);
    expect(sut.allowedFor('/tasksx')).toEqual([]);
  });
});
