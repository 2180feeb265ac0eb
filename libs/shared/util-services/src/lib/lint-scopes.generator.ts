import { GENERATED_NOTICE, linesOf } from './generated-notice';
import type { ServicesManifest } from './services.types';

/** tools/lint/service-scopes.mjs: the `scope:*` tags eslint.config.mjs fences off, one per service. */
export function lintScopesFile(manifest: ServicesManifest): string {
  const scopes = [...new Set(manifest.services.map((service) => service.lintScope))];
  return linesOf([
    `// ${GENERATED_NOTICE}`,
    "/** One lib scope per service: a service's libs import their own scope and scope:shared only. */",
    `export const SERVICE_SCOPES = [${scopes.map((scope) => `'${scope}'`).join(', ')}];`,
  ]);
}
