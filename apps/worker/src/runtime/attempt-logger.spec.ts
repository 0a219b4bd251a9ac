import { Writable } from 'node:stream';
import pino from 'pino';
import { attemptLogger } from './attempt-logger';

function capture(level: pino.Level): { root: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { root: pino({ level }, sink), lines };
}

describe(attemptLogger.name, () => {
  const bindings = { taskId: 'task-1', type: 'email', attempt: 2 };

  it("binds the attempt's task id, type and number to every line a handler writes", () => {
    const { root, lines } = capture('debug');
    const sut = attemptLogger(() => root, bindings);

    sut.log('sent');
    sut.warn('slow');

    expect(lines).toEqual([
      expect.objectContaining({ msg: 'sent', level: 30, context: 'task:email', ...bindings }),
      expect.objectContaining({ msg: 'slow', level: 40, context: 'task:email', ...bindings }),
    ]);
  });

  it('makes no child logger for lines below the level', () => {
    const { root, lines } = capture('warn');
    const child = jest.spyOn(root, 'child');
    const sut = attemptLogger(() => root, bindings);

    sut.log('sent');
    sut.debug('details');

    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    sut.error('failed');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([expect.objectContaining({ msg: 'failed', ...bindings })]);
  });
});
