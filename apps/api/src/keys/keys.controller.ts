import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiKeyScope, CreateApiKeyDto, type ApiKeyView, type CreatedApiKeyView } from '@taskq/contracts';
import { ApiKeyStore, ConsoleSessionStore } from '@taskq/persistence';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { ApiAnswer, ApiJsonBody, ApiProblems } from '../docs/api-docs.decorators';
import { toApiKeyView } from '@taskq/persistence';

/** API keys, for admins: the REST twin of `npm run keys`. */
@Controller('keys')
@RequiresScope(ApiKeyScope.Admin)
@ApiTags('keys')
export class KeysController {
  constructor(
    private readonly keys: ApiKeyStore,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly sessions: ConsoleSessionStore,
  ) {}

  /** The key is in this answer only: it is stored as a hash. */
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key', description: 'The key is in this answer only: it is stored as a hash.' })
  @ApiJsonBody(CreateApiKeyDto, {
    client: { summary: 'A client that submits and reads its own tasks', value: { name: 'billing', scopes: ['tasks:write', 'tasks:read'] } },
    prometheus: { summary: 'Prometheus (reads /metrics)', value: { name: 'prometheus', scopes: ['tasks:read'], tenant: 'ops' } },
  })
  @ApiAnswer(201, 'Created.', 'CreatedApiKeyView')
  @ApiProblems({ 400: 'Invalid name, scopes or tenant (see errors[]).' })
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { key, record } = await this.keys.create({ name: body.name, scopes: body.scopes, tenant: body.tenant });
    return { ...toApiKeyView(record), key };
  }

  @Get()
  @ApiOperation({ summary: 'List API keys', description: 'Every key, revoked ones included; never the keys themselves.' })
  @ApiAnswer(200, 'Every key.', { type: 'array', items: { $ref: '#/components/schemas/ApiKeyView' } })
  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(toApiKeyView);
  }

  /** Revokes at once on this replica, within seconds on the others. */
  @Delete(':prefix')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key', description: 'At once on this replica, within seconds on the others.' })
  @ApiParam({ name: 'prefix', description: "The key's prefix (see GET /keys).", schema: { type: 'string' } })
  @ApiAnswer(204, 'Revoked.', null)
  @ApiProblems({ 404: 'No active key with this prefix.' })
  async revoke(@Param('prefix') prefix: string): Promise<void> {
    if (!(await this.keys.revoke(prefix))) throw ProblemException.notFound(`No active API key with prefix "${prefix}".`);
    this.authenticator.forget(prefix);
    // Its console sessions stop at once anyway (they act as the key); this drops their rows.
    await this.sessions.closeAllOf(prefix);
  }
}
