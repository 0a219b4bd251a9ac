import { CreateScheduleDto, UpdateScheduleDto } from './api/schedule.dto';
import { validateDto } from './payload-validation';
import { SCHEDULE_NAME_PATTERN, cronExpressionProblem, isIanaTimeZone } from './schedule-rules';

describe('cronExpressionProblem', () => {
  it.each(['0 3 * * *', '*/1 * * * * *', '*/15 9-17 * * mon-fri', '0 0 29 2 *', '0 0 L * *', '0 0 * * 5#3', '@daily', '@weekdays'])('accepts %j', (cron) => {
    expect(cronExpressionProblem(cron)).toBeNull();
  });

  it.each<[string, RegExp]>([
    ['', /without leading or trailing spaces/],
    [' 0 3 * * *', /without leading or trailing spaces/],
    ['not a cron', /5 fields .* got 3/],
    ['* * * *', /got 4/],
    ['* * * * * * *', /got 7/],
    ['61 * * * *', /not a valid cron expression: .*61/],
    ['0 0 * * 8', /not a valid cron expression/],
    ['0 0 31 2,4 *', /never fires/],
    ['0 0 30 2 *', /not a valid cron expression/],
    ['H * * * *', /H \(hashed values/],
    ['@sometimes', /shorthand must be one of/],
    ['0 '.repeat(150).trim(), /at most 200 characters/],
  ])('refuses %j', (cron, reason) => {
    expect(cronExpressionProblem(cron)).toMatch(reason);
  });

  it('does not mistake day names for H', () => {
    expect(cronExpressionProblem('0 0 * * THU')).toBeNull();
  });
});

describe('isIanaTimeZone', () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])('accepts %s', (zone) => expect(isIanaTimeZone(zone)).toBe(true));
  it.each(['Mars/Base', '+02:00', 'local', '', 'Europe/Paris; DROP', 42])('refuses %j', (zone) => expect(isIanaTimeZone(zone)).toBe(false));
});

describe('SCHEDULE_NAME_PATTERN', () => {
  it.each(['nightly-report', 'a', 'team.ops_2', 'x'.repeat(100)])('accepts %s', (name) => expect(SCHEDULE_NAME_PATTERN.test(name)).toBe(true));
  it.each(['', 'Nightly', '-lead', 'a:b', 'a b', 'x'.repeat(101), 'é'])('refuses %j', (name) => expect(SCHEDULE_NAME_PATTERN.test(name)).toBe(false));
});

describe(CreateScheduleDto.name, () => {
  const valid = { name: 'nightly', cron: '0 3 * * *', tz: 'Europe/Paris', type: 'noop', payload: {} };

  it('accepts a complete body, and tz absent or null', async () => {
    expect((await validateDto(CreateScheduleDto, valid, '')).errors).toEqual([]);
    expect((await validateDto(CreateScheduleDto, { ...valid, tz: null }, '')).errors).toEqual([]);
    const { tz: _tz, ...noZone } = valid;
    expect((await validateDto(CreateScheduleDto, noZone, '')).errors).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a bad name', { name: 'Bad Name' }, 'name'],
    ['a bad cron', { cron: '99 * * * *' }, 'cron'],
    ['a bad tz', { tz: 'Mars/Base' }, 'tz'],
    ['a non-boolean enabled', { enabled: 'yes' }, 'enabled'],
    ['a missing payload', { payload: undefined }, 'payload'],
    ['an unknown field', { priority: 3 }, 'priority'],
  ])('names the field of %s', async (_, change, field) => {
    const { errors } = await validateDto(CreateScheduleDto, { ...valid, ...change }, '');
    expect(errors.map((error) => error.field)).toEqual([field]);
  });

  it('explains why a cron expression is refused', async () => {
    const { errors } = await validateDto(CreateScheduleDto, { ...valid, cron: '0 0 31 2,4 *' }, '');
    expect(errors).toEqual([{ field: 'cron', messages: ['cron never fires (no date matches it)'] }]);
  });
});

describe(UpdateScheduleDto.name, () => {
  it('accepts any subset, and tz null', async () => {
    expect((await validateDto(UpdateScheduleDto, { enabled: false }, '')).errors).toEqual([]);
    expect((await validateDto(UpdateScheduleDto, { tz: null, cron: '@hourly' }, '')).errors).toEqual([]);
  });

  it.each(['cron', 'type', 'payload', 'enabled'])('refuses null for %s, which cannot be cleared', async (field) => {
    const { errors } = await validateDto(UpdateScheduleDto, { [field]: null }, '');
    expect(errors.map((error) => error.field)).toEqual([field]);
  });

  it('refuses the name (a schedule is renamed by re-creating it)', async () => {
    const { errors } = await validateDto(UpdateScheduleDto, { name: 'other' }, '');
    expect(errors.map((error) => error.field)).toEqual(['name']);
  });
});
