import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiKeyScope, type SigningSecretView } from '@taskq/contracts';
import { CallbackStore, type SigningSecrets } from '@taskq/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer, ApiProblems } from '../docs/api-docs.decorators';
import { ProblemException } from '../errors/problem.exception';

const TENANT = ApiQuery({ name: 'tenant', required: false, description: "Another tenant's secret (admin keys act on every tenant); default: the key's own tenant." });
const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** The secrets completion callbacks are signed with (Taskq-Signature), per tenant. */
@Controller('signing-secret')
@ApiTags('callbacks')
export class SigningSecretController {
  constructor(private readonly callbacks: CallbackStore) {}

  @Get()
  @RequiresScope(ApiKeyScope.Admin)
  @ApiOperation({ summary: "A tenant's callback signing secret", description: 'Made on first need. Receivers verify Taskq-Signature with it.' })
  @TENANT
  @ApiAnswer(200, 'The secret.', 'SigningSecret')
  @ApiProblems({ 400: 'A malformed tenant name.' })
  async get(@Query('tenant') tenant: string | undefined, @CurrentPrincipal() principal: Principal): Promise<SigningSecretView> {
    const owner = tenantOf(tenant, principal);
    return viewOf(owner, await this.callbacks.signingSecrets(owner));
  }

  @Post('rotate')
  @HttpCode(200)
  @RequiresScope(ApiKeyScope.Admin)
  @ApiOperation({ summary: 'Rotate a callback signing secret', description: 'A new secret signs from now on; the previous one signs beside it (a second v1=) for 24 h, so receivers can switch.' })
  @TENANT
  @ApiAnswer(200, 'The new secret, and the previous one in its grace period.', 'SigningSecret')
  @ApiProblems({ 400: 'A malformed tenant name.' })
  async rotate(@Query('tenant') tenant: string | undefined, @CurrentPrincipal() principal: Principal): Promise<SigningSecretView> {
    const owner = tenantOf(tenant, principal);
    return viewOf(owner, await this.callbacks.rotate(owner));
  }
}

function tenantOf(tenant: string | undefined, principal: Principal): string {
  if (tenant === undefined) return principal.tenant;
  if (!TENANT_PATTERN.test(tenant)) throw ProblemException.validation([{ field: 'tenant', messages: ['must be 1 to 100 letters, digits, ., _ or -'] }]);
  return tenant;
}

const viewOf = (tenant: string, secrets: SigningSecrets): SigningSecretView => ({
  tenant,
  secret: secrets.current,
  previousSecret: secrets.previous,
  rotatedAt: secrets.rotatedAt ? secrets.rotatedAt.toISOString() : null,
});
