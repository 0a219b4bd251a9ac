import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyStore } from '@taskq/persistence';
import { KeysController } from '../keys/keys.controller';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { AccessGuard } from './access.guard';

/**
 * API keys: who may call (the onRequest hook in api-app.ts, before any body is read), what a
 * key may do and how often (AccessGuard: each route's scope, then per-key rate limits in Redis), and
 * the `/keys` routes.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(bootstrapKey: string | undefined): DynamicModule {
    return {
      module: AuthModule,
      controllers: [KeysController],
      providers: [
        { provide: ApiKeyAuthenticator, useFactory: (store: ApiKeyStore) => new ApiKeyAuthenticator(store, { bootstrapKey }), inject: [ApiKeyStore] },
        // The route's scope, then the key's rate limit.
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
      exports: [ApiKeyAuthenticator],
    };
  }
}
