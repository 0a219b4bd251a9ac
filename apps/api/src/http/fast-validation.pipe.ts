import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { fastValidatorOf } from '@taskq/contracts';

/**
 * Nest's ValidationPipe with a fast path: a JSON object that the DTO's compiled validator
 * accepts (see fastValidatorOf) is the DTO instance class-transformer makes of it, as the
 * pipe would return it, without running class-validator; anything else goes through the
 * pipe itself, which answers with the field errors it always gave.
 */
export class FastValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    // A plain JSON object only: the pipe's own preparations (prototype keys, sparse arrays,
    // binary values, primitives) change nothing for it.
    const check = metatype && !this.expectedType && this.isTransformEnabled && isJsonObject(value) && this.toValidate(metadata) ? fastValidatorOf(metatype) : null;
    if (metatype && check) {
      const entity = plainToInstance(metatype, value, this.transformOptions) as object;
      if (check(entity)) return entity;
    }
    return super.transform(value, metadata);
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
