import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION } from './openapi-document';

describe('API_VERSION', () => {
  it("is the workspace's version (package.json)", () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(API_VERSION).toBe(version);
  });
});
