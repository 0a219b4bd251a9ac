import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsEnum, IsOptional, IsString, Matches } from 'class-validator';
import { ApiKeyScope } from '../api-key-scope';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** A tenant's name, as keys are given it (and as filters must spell it). */
export const TENANT_NAME_PATTERN = NAME;
export const TENANT_NAME_MESSAGE = 'tenant must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Body of `POST /keys` (and of `npm run keys -- create`). */
export class CreateApiKeyDto {
  @IsString()
  @Matches(NAME, { message: 'name must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  name!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @ArrayUnique()
  @IsEnum(ApiKeyScope, { each: true, message: 'each scope must be one of: tasks:write, tasks:read, admin' })
  scopes!: ApiKeyScope[];

  /** Owner of the tasks submitted with the key; default: the key's name. */
  @IsOptional()
  @IsString()
  @Matches(TENANT_NAME_PATTERN, { message: TENANT_NAME_MESSAGE })
  tenant?: string;
}

/** An API key as listed: never the key itself. */
export interface ApiKeyView {
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  tenant: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The answer to a creation: the only time the key is shown. */
export interface CreatedApiKeyView extends ApiKeyView {
  key: string;
}
