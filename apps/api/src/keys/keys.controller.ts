import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiKeyScope, CreateApiKeyDto, type ApiKeyView, type CreatedApiKeyView } from '@taskq/contracts';
import { ApiKeyStore } from '@taskq/persistence';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ProblemException } from '../errors/problem.exception';
import { toApiKeyView } from './api-key-view.mapper';

/** API keys, for admins: the REST twin of `npm run keys`. */
@Controller('keys')
@RequiresScope(ApiKeyScope.Admin)
export class KeysController {
  constructor(
    private readonly keys: ApiKeyStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  /** The key is in this answer only: it is stored as a hash. */
  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { key, record } = await this.keys.create({ name: body.name, scopes: body.scopes, tenant: body.tenant ?? body.name });
    return { ...toApiKeyView(record), key };
  }

  @Get()
  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(toApiKeyView);
  }

  /** Revokes at once on this replica, within seconds on the others. */
  @Delete(':prefix')
  @HttpCode(204)
  async revoke(@Param('prefix') prefix: string): Promise<void> {
    if (!(await this.keys.revoke(prefix))) throw ProblemException.notFound(`No active API key with prefix "${prefix}".`);
    this.authenticator.forget(prefix);
  }
}
