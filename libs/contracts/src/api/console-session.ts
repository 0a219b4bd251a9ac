import { IsString, MaxLength, MinLength } from 'class-validator';
import type { ApiKeyScope } from '../api-key-scope';

/** Body of `POST /auth/session`: the key the console signs in with (it is not kept in the browser). */
export class ConsoleSignInDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  apiKey!: string;
}

/** Who a console session acts as, and what it needs to make changes. */
export interface ConsoleSessionView {
  keyName: string;
  keyPrefix: string;
  tenant: string;
  scopes: ApiKeyScope[];
  /** Admin keys see and act on every tenant. */
  allTenants: boolean;
  /** Send it as `X-CSRF-Token` with every request that changes something. */
  csrfToken: string;
  expiresAt: string;
}
