import { SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '@taskq/contracts';

export const REQUIRED_SCOPE = 'taskq:required-scope';

/** The scope an API key needs for this route (or every route of this controller). Unmarked routes need `admin`. */
export const RequiresScope = (scope: ApiKeyScope): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPE, scope);
