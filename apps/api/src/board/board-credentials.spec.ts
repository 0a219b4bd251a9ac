import crypto from 'node:crypto';
import { loadConfig, ApiConfig } from '@taskq/config';
import { BoardCredentials, parseBasicAuthorization } from './board-credentials';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe(BoardCredentials.name, () => {
  const sut = new BoardCredentials({ user: 'admin', password: 'correct horse' }, { user: 'viewer', password: 'pässwörd:with colon' });

  afterEach(() => jest.restoreAllMocks());

  it('grants the admin and the viewer their role', () => {
    expect(sut.roleOf(basic('admin', 'correct horse'))).toBe('admin');
    expect(sut.roleOf(basic('viewer', 'pässwörd:with colon'))).toBe('viewer');
    expect(sut.roleOf(`basic ${Buffer.from('admin:correct horse').toString('base64')}`)).toBe('admin');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a wrong password', basic('admin', 'correct horsE')],
    ['a password that is a prefix of the right one', basic('admin', 'correct')],
    ['a wrong user', basic('Admin', 'correct horse')],
    ["the viewer's user with the admin's password", basic('viewer', 'correct horse')],
    ["the admin's user with the viewer's password", basic('admin', 'pässwörd:with colon')],
    ['empty user and password', basic('', '')],
    ['another scheme', `Bearer ${Buffer.from('admin:correct horse').toString('base64')}`],
    ['no colon', `Basic ${Buffer.from('admin').toString('base64')}`],
    ['not base64', 'Basic !!!'],
  ])('grants nothing for %s', (_case, header) => {
    expect(sut.roleOf(header)).toBeUndefined();
  });

  it('never matches an account that is not configured', () => {
    const adminOnly = new BoardCredentials({ user: 'admin', password: 'pw' });
    expect(adminOnly.configured).toBe(true);
    expect(adminOnly.roleOf(basic('admin', 'pw'))).toBe('admin');
    expect(adminOnly.roleOf(basic('', ''))).toBeUndefined();
    expect(adminOnly.roleOf(basic('viewer', 'pw'))).toBeUndefined();

    const none = BoardCredentials.fromConfig(loadConfig(ApiConfig, {}));
    expect(none.configured).toBe(false);
    expect(none.roleOf(basic('', ''))).toBeUndefined();
    expect(none.roleOf(basic('admin', 'admin'))).toBeUndefined();
  });

  it('reads its accounts from ApiConfig', () => {
    const fromConfig = BoardCredentials.fromConfig(
      loadConfig(ApiConfig, { BOARD_ADMIN_USER: 'ops', BOARD_ADMIN_PASSWORD: 'a', BOARD_VIEWER_USER: 'look', BOARD_VIEWER_PASSWORD: 'v' }),
    );
    expect([fromConfig.roleOf(basic('ops', 'a')), fromConfig.roleOf(basic('look', 'v')), fromConfig.roleOf(basic('ops', 'v'))]).toEqual(['admin', 'viewer', undefined]);
  });

  it('compares in constant time: every user and password of both accounts, as equal-length digests, whatever is sent', () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    const headers = [basic('admin', 'correct horse'), basic('admin', 'x'), basic('nobody', 'correct horse'), basic('a'.repeat(500), 'b'), undefined, 'Basic !!!'];
    for (const header of headers) {
      compare.mockClear();
      sut.roleOf(header);
      // 2 accounts × (user, password): no comparison is skipped when an earlier one failed.
      expect(compare).toHaveBeenCalledTimes(4);
      for (const [a, b] of compare.mock.calls) {
        expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
        // Digests, never the secrets themselves.
        expect((b as Buffer).toString('utf8')).not.toMatch(/correct horse|pässwörd/);
      }
    }
  });
});

describe(parseBasicAuthorization.name, () => {
  it('splits at the first colon and decodes UTF-8', () => {
    expect(parseBasicAuthorization(basic('ünïcode', 'a:b:c'))).toEqual({ user: 'ünïcode', password: 'a:b:c' });
    expect(parseBasicAuthorization(basic('', ''))).toEqual({ user: '', password: '' });
    expect(parseBasicAuthorization('Basic')).toBeUndefined();
  });
});
