import { MAX_PROGRESS_BYTES, progressValueProblem } from './task-event';

describe(progressValueProblem.name, () => {
  it.each([0, 42.5, 100, {}, { step: 'upload', done: 3, of: 10 }])('accepts %p', (value) => {
    expect(progressValueProblem(value)).toBeNull();
  });

  it.each([-1, 100.01, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, 'half', [50], true])('refuses %p', (value) => {
    expect(progressValueProblem(value)).toEqual(expect.any(String));
  });

  it(`refuses an object over ${MAX_PROGRESS_BYTES} bytes of JSON, counted in UTF-8`, () => {
    const fits = { note: 'x'.repeat(MAX_PROGRESS_BYTES - '{"note":""}'.length) };
    expect(progressValueProblem(fits)).toBeNull();
    expect(progressValueProblem({ note: 'é'.repeat(MAX_PROGRESS_BYTES / 2) })).toMatch(/at most 4096 bytes/);
  });

  it('refuses an object JSON cannot serialize', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(progressValueProblem(cyclic)).toMatch(/serializable/);
  });
});
