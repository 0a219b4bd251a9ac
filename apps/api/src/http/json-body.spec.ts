import { ProblemException } from '../errors/problem.exception';
import { nestingDepth, parseJsonBody } from './json-body';

describe(parseJsonBody.name, () => {
  const sut = (text: string): unknown => parseJsonBody(text, { maxDepth: 4 });
  const detailOf = (text: string): string => {
    try {
      sut(text);
    } catch (error) {
      if (error instanceof ProblemException) return error.problem.detail;
    }
    throw new Error('expected a ProblemException');
  };

  it('parses ordinary JSON, including strings that only look like forbidden keys or brackets', () => {
    expect(sut('{"a":[1,{"b":"[[[[[[\\"}}}"}],"note":"__proto__"}')).toEqual({ a: [1, { b: '[[[[[["}}}' }], note: '__proto__' });
  });

  it('takes surrogate pairs (emoji), escaped or not', () => {
    expect(sut('{"a":"\\ud83d\\udca9 \ud83d\udca9"}')).toEqual({ a: '\ud83d\udca9 \ud83d\udca9' });
  });

  it.each([
    ['too deep', '[[[[[1]]]]]', /nested 5 levels deep; at most 4/],
    ['malformed', '{"a":', /Malformed JSON/],
    ['__proto__', '{"a":{"__proto__":{"x":1}}}', /"__proto__" is not allowed \(at a\.__proto__\)/],
    ['constructor in an array', '{"a":[{"constructor":1}]}', /"constructor" is not allowed \(at a\[0\]\.constructor\)/],
    ['prototype', '{"prototype":1}', /"prototype" is not allowed/],
    ['NUL in a value', '{"a":["x\\u0000"]}', /NUL character.*a\[0\]/],
    ['NUL in a key', '{"a\\u0000":1}', /Keys must not contain the NUL character/],
    ['an unpaired surrogate in a value', '{"a":["\\ud800x"]}', /unpaired surrogate.*a\[0\]/],
    ['an unpaired low surrogate in a key', '{"\\udc00":1}', /Keys must be valid Unicode/],
  ])('refuses %s', (_case, text, detail) => {
    expect(detailOf(text)).toMatch(detail);
  });

  it('leaves Object.prototype alone', () => {
    expect(() => sut('{"__proto__":{"polluted":true}}')).toThrow(ProblemException);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe(nestingDepth.name, () => {
  it('counts brackets outside strings only, escapes included', () => {
    expect(nestingDepth('{"a":"\\"[[[","b":[[1]]}')).toBe(3);
    expect(nestingDepth('"[[["')).toBe(0);
  });
});
