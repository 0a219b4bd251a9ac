import { SubmitTaskDto } from './api/submit-task.dto';
import { validDtoNow, validPayloadNow, validateDto, validatePayload } from './payload-validation';

describe('validatePayload', () => {
  it('accepts a valid email payload and normalises a single recipient to a list', async () => {
    const sut = await validatePayload('email', { to: 'a@example.com', subject: 'Hi', text: 'Hello' });
    expect(sut).toEqual({ valid: true, payload: expect.objectContaining({ to: ['a@example.com'], subject: 'Hi' }) });
  });

  it('names every failing field with its path', async () => {
    const sut = await validatePayload('email', { to: ['not-an-address'], extra: 1 });
    expect(sut.valid).toBe(false);
    const fields = sut.valid ? [] : sut.errors.map((error) => error.field).sort();
    expect(fields).toEqual(['payload.extra', 'payload.subject', 'payload.text', 'payload.to']);
  });

  it('says a missing required field is required, not what its value should be', async () => {
    expect(await validatePayload('sleep', {})).toEqual({ valid: false, errors: [{ field: 'payload.ms', messages: ['ms is required'] }] });
    expect(await validatePayload('email', { to: 'a@example.com', subject: 'Hi' })).toEqual({
      valid: false,
      errors: [{ field: 'payload.text', messages: ['text must be a string (text or html is required)'] }],
    });
    expect((await validateDto(SubmitTaskDto, { type: 'noop' }, 'tasks.0')).errors).toEqual([{ field: 'tasks.0.payload', messages: ['payload is required'] }]);
  });

  it('accepts html instead of text', async () => {
    expect((await validatePayload('email', { to: 'a@example.com', subject: 'Hi', html: '<p>x</p>' })).valid).toBe(true);
  });

  it.each([
    ['webhook', { url: 'ftp://example.com' }, 'payload.url'],
    ['webhook', { url: 'https://example.com', method: 'TRACE' }, 'payload.method'],
    ['webhook', { url: 'https://example.com', headers: { a: 1 } }, 'payload.headers'],
    ['webhook', { url: 'https://example.com', timeoutMs: 5 }, 'payload.timeoutMs'],
    ['sleep', { ms: -1 }, 'payload.ms'],
    ['sleep', { ms: 1.5 }, 'payload.ms'],
    ['sleep', {}, 'payload.ms'],
    ['report', { windowMinutes: 0 }, 'payload.windowMinutes'],
    ['noop', { unexpected: true }, 'payload.unexpected'],
  ] as const)('rejects %s payload %j at %s', async (type, payload, field) => {
    const sut = await validatePayload(type, payload);
    expect(sut.valid).toBe(false);
    expect(sut.valid ? [] : sut.errors.map((error) => error.field)).toContain(field);
  });

  it.each([null, [], 'text', 42])('rejects a payload that is not an object: %p', async (payload) => {
    const sut = await validatePayload('noop', payload);
    expect(sut).toEqual({ valid: false, errors: [{ field: 'payload', messages: ['payload must be an object'] }] });
  });

  it('accepts a webhook with any JSON body', async () => {
    const sut = await validatePayload('webhook', { url: 'http://127.0.0.1:8080/hook', method: 'PUT', body: { nested: [1, 'two'] } });
    expect(sut.valid).toBe(true);
  });
});

describe('validPayloadNow and validDtoNow', () => {
  it('answer at once with what validatePayload and validateDto would give a valid body', async () => {
    expect(validPayloadNow('email', { to: 'a@example.com', subject: 'Hi', text: 'Hello' })).toEqual(await validatePayload('email', { to: 'a@example.com', subject: 'Hi', text: 'Hello' }));
    const dto = validDtoNow(SubmitTaskDto, { type: 'noop', payload: {}, backoff: { type: 'fixed' } });
    expect(dto).toBeInstanceOf(SubmitTaskDto);
    expect(dto).toEqual({ type: 'noop', payload: {}, backoff: { type: 'fixed' } });
  });

  it('leave anything else to the full validation, which names the errors', () => {
    expect(validPayloadNow('sleep', { ms: -1 })).toBeUndefined();
    expect(validPayloadNow('noop', null)).toBeUndefined();
    expect(validDtoNow(SubmitTaskDto, { type: 'noop' })).toBeUndefined();
    expect(validDtoNow(SubmitTaskDto, [])).toBeUndefined();
  });
});
