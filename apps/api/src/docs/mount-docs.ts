import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { buildOpenApiDocument } from './openapi-document';

/**
 * Swagger UI at /docs (its assets under /docs/), the OpenAPI document at /docs/json and
 * /docs/yaml. All public: the API-key hook lets /docs and everything under it through.
 */
export function mountApiDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/json',
    yamlDocumentUrl: 'docs/yaml',
    customSiteTitle: 'taskq API',
  });
}
