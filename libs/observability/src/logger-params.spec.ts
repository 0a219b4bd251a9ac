import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REDACTED_PATHS, loggerParams, wantsPrettyLogs } from './logger-params';

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
});
