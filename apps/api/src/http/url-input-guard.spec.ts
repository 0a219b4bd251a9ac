import { urlInputErrors } from './url-input-guard';

describe(urlInputErrors.name, () => {
  it('accepts ordinary text, unicode included', () => {
    expect(urlInputErrors({ name: 'nightly-report' }, { type: 'noop', from: '2026-01-01', note: ['é', '\ud83d\udca9'] })).toEqual([]);
  });

  it('names each path parameter and query value with a NUL character or an unpaired surrogate', () => {
    expect(urlInputErrors({ prefix: 'a\u0000b' }, { type: ['ok', 'x\ud800'], to: 'fine' })).toEqual([
      { field: 'prefix', messages: ['prefix must not contain the NUL character'] },
      { field: 'type', messages: ['type must be valid Unicode'] },
    ]);
  });

  it('refuses prototype keys and NUL characters in query keys', () => {
    const query = Object.assign(Object.create(null) as Record<string, string>, { constructor: 'x', 'a\u0000': '1' });
    Object.defineProperty(query, '__proto__', { value: 'y', enumerable: true });
    expect(urlInputErrors({}, query)).toEqual([
      { field: 'constructor', messages: ['the query parameter "constructor" is not allowed'] },
      { field: 'a\\u0000', messages: ['a\\u0000 must not contain the NUL character'] },
      { field: '__proto__', messages: ['the query parameter "__proto__" is not allowed'] },
    ]);
  });
});
