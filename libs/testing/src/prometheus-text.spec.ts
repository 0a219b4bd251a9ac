import { parsePrometheusText } from './prometheus-text';

describe(parsePrometheusText.name, () => {
  it('reads families, labels (escaped too) and special values', () => {
    const sut = parsePrometheusText(
      [
        '# HELP jobs Jobs by state.',
        '# TYPE jobs gauge',
        'jobs{type="email",state="waiting"} 3',
        'jobs{type="a \\"quoted\\" \\\\ name",state="x"} 1.5',
        'lag_seconds Nan',
        'wait_bucket{le="+Inf"} 7 1700000000000',
        '',
      ].join('\n'),
    );

    expect(sut.families.get('jobs')).toEqual({ name: 'jobs', type: 'gauge', help: 'Jobs by state.' });
    expect(sut.value('jobs', { type: 'email', state: 'waiting' })).toBe(3);
    expect(sut.value('jobs', { type: 'email' })).toBeUndefined();
    expect(sut.select('jobs', { type: 'a "quoted" \\ name' })).toEqual([{ name: 'jobs', labels: { type: 'a "quoted" \\ name', state: 'x' }, value: 1.5 }]);
    expect(sut.value('lag_seconds')).toBeNaN();
    expect(sut.value('wait_bucket', { le: '+Inf' })).toBe(7);
  });

  it.each(['jobs{type="email" 3', 'jobs{type=email} 3', 'jobs three', 'jobs', '1jobs 3'])('refuses the malformed line %j', (line) => {
    expect(() => parsePrometheusText(line)).toThrow(/malformed/);
  });
});
