import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsoleSignInDto, type ConsoleSessionView } from '@taskq/contracts';
import type { ConsoleSession } from '@taskq/persistence';
import type { Principal } from '../auth/principal';
import { NO_KEY, RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer, ApiJsonBody, ApiProblems } from '../docs/api-docs.decorators';
import { ProblemException, problemType } from '../errors/problem.exception';
import { ConsoleSessions } from './console-sessions';

const NOT_SIGNED_IN = (): ProblemException => ProblemException.unauthorized('Not signed in, or the session ended: sign in again with an API key.');

/**
 * The console's sign-in: an API key for a session cookie (HttpOnly, SameSite=Strict). The
 * routes take no API key: the key is in the body, the session in the cookie.
 */
@Controller('auth/session')
@RequiresScope(NO_KEY)
@ApiTags('console')
export class ConsoleSessionController {
  constructor(private readonly sessions: ConsoleSessions) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Sign in (console)',
    description: 'Exchanges an API key for a session cookie that acts as that key until it expires (CONSOLE_SESSION_TTL_MS), the key is revoked, or `DELETE /auth/session`.',
  })
  @ApiJsonBody(ConsoleSignInDto)
  @ApiAnswer(201, 'Signed in: the `taskq_session` cookie is set.', 'ConsoleSessionView', { 'Set-Cookie': { description: 'The session cookie (HttpOnly, SameSite=Strict).', schema: { type: 'string' } } })
  @ApiProblems({ 400: 'No apiKey in the body.', 503: 'PostgreSQL is unavailable: keys cannot be checked.' })
  async signIn(@Body() body: ConsoleSignInDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ConsoleSessionView> {
    const signedIn = await this.sessions.signIn(body.apiKey);
    if (!signedIn) throw ProblemException.unauthorized('This API key is not valid (unknown, revoked or mistyped).');
    void reply.header('set-cookie', signedIn.cookie);
    return viewOf(signedIn.principal, signedIn.session);
  }

  @Get()
  @ApiOperation({ summary: 'The current session (console)', description: 'Who the session cookie acts as, and its CSRF token.' })
  @ApiAnswer(200, 'The session.', 'ConsoleSessionView')
  async current(@Req() request: FastifyRequest): Promise<ConsoleSessionView> {
    const check = await this.sessions.check(request);
    if (check.kind !== 'signed-in') throw NOT_SIGNED_IN();
    return viewOf(check.principal, check.session);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out (console)', description: 'Ends the session (it is deleted on the server) and clears the cookie. Needs `X-CSRF-Token`.' })
  @ApiAnswer(204, 'Signed out.', null)
  async signOut(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const check = await this.sessions.check(request);
    if (check.kind === 'csrf-refused') throw csrfRefused();
    void reply.header('set-cookie', await this.sessions.signOut(request));
  }
}

export function csrfRefused(): ProblemException {
  return new ProblemException({
    type: problemType('csrf'),
    title: 'Forbidden',
    status: 403,
    detail: 'A request of a console session that changes something must carry the session\'s CSRF token in X-CSRF-Token (see GET /auth/session).',
  });
}

function viewOf(principal: Principal, session: ConsoleSession): ConsoleSessionView {
  return {
    keyName: principal.name,
    keyPrefix: principal.keyPrefix,
    tenant: principal.tenant,
    scopes: [...principal.scopes],
    allTenants: principal.allTenants,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  };
}
