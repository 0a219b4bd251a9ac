import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REDACTED_PATHS, loggerParams, requestIds, requestLogLine, wantsPrettyLogs } from './logger-params';

describe(loggerParams.name, () => {
  const stdoutIsTTY = process.stdout.isTTY;
  afterEach(() => {
    process.stdout.isTTY = stdoutIsTTY;
  });

  it('picks human-readable lines only for a terminal outside production, unless LOG_FORMAT says otherwise', () => {
    process.stdout.isTTY = true;
    expect(wantsPrettyLogs({ logFormat: 'auto', nodeEnv: 'development' })).toBe(true);
    expect(wantsPrettyLogs({ logFormat: 'auto', nodeEnv: 'production' })).toBe(false);
    expect(wantsPrettyLogs({ logFormat: 'json', nodeEnv: 'development' })).toBe(false);
    process.stdout.isTTY = false;
    expect(wantsPrettyLogs({ logFormat: 'auto', nodeEnv: 'development' })).toBe(false);
    expect(wantsPrettyLogs({ logFormat: 'pretty', nodeEnv: 'production' })).toBe(true);
  });

  it('writes JSON lines to stdout with level names, ISO times, the app and redacted credentials', () => {
    process.stdout.isTTY = false;
    const params = loggerParams('worker', { logLevel: 'debug', logFormat: 'auto', nodeEnv: 'development' });
    const [options, destination] = params.pinoHttp as [pino.LoggerOptions, unknown];
    expect(destination).toBe(process.stdout);

    const lines: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino(options, capture);
    logger.debug({ req: { headers: { authorization: 'Bearer x', cookie: 'a=b', accept: '*/*' } } }, 'hello');
    logger.trace('not at debug');

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'debug',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      app: 'worker',
      pid: process.pid,
      msg: 'hello',
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' } },
    });
    expect(REDACTED_PATHS).toContain('req.headers.authorization');
  });

  it("adds the request's id to the lines written while a request is served, and only then", () => {
    process.stdout.isTTY = false;
    const [options] = loggerParams('api', { logLevel: 'info', logFormat: 'json', nodeEnv: 'production' }).pinoHttp as [pino.LoggerOptions, unknown];
    const lines: string[] = [];
    const logger = pino(options, new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );

    logger.info('outside');
    requestIds.run('req-1', () => logger.warn({ reqId: 'req-1' }, 'inside, named twice'));
    requestIds.run('req-2', () => logger.info('inside'));

    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>).map(({ msg, reqId }) => ({ msg, reqId }))).toEqual([
      { msg: 'outside', reqId: undefined },
      { msg: 'inside, named twice', reqId: 'req-1' },
      { msg: 'inside', reqId: 'req-2' },
    ]);
    expect(lines[1]?.match(/"reqId"/g)).toHaveLength(1);
  });
});

describe(requestLogLine.name, () => {
  const request = { id: 'r1', method: 'POST', originalUrl: '/submit-task' };
  const enabled = (levels: string[]) => ({ isLevelEnabled: (level: string) => levels.includes(level) });
  const all = enabled(['debug', 'info', 'warn', 'error']);

  it('writes 2xx and 4xx at info, probes at debug, with method, URL, status and time', () => {
    expect(requestLogLine(all, request, { statusCode: 202 }, 3.4)).toEqual({
      level: 'info',
      msg: 'POST /submit-task 202 in 3 ms',
      fields: { reqId: 'r1', req: request, res: { statusCode: 202 }, responseTime: 3 },
    });
    expect(requestLogLine(all, request, { statusCode: 400 }, 1)?.level).toBe('info');
    expect(requestLogLine(all, { ...request, method: 'GET', originalUrl: '/health/ready' }, { statusCode: 200 }, 1)?.level).toBe('debug');
  });

  it('writes a 503 as a warning without an error, any other 5xx as an error with one', () => {
    expect(requestLogLine(all, request, { statusCode: 503 }, 1)).toMatchObject({ level: 'warn', msg: 'POST /submit-task 503' });
    expect(requestLogLine(all, request, { statusCode: 503 }, 1)?.fields).not.toHaveProperty('err');
    const failed = requestLogLine(all, request, { statusCode: 500 }, 1);
    expect(failed).toMatchObject({ level: 'error', msg: 'POST /submit-task 500: failed with status code 500' });
    expect(failed?.fields['err']).toBeInstanceOf(Error);
  });

  it('makes nothing when the level is not written (LOG_LEVEL=warn and a 2xx)', () => {
    const warn = enabled(['warn', 'error']);
    expect(requestLogLine(warn, request, { statusCode: 202 }, 1)).toBeNull();
    expect(requestLogLine(warn, request, { statusCode: 503 }, 1)?.level).toBe('warn');
  });
});
