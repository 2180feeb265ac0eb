import type { OpenAPIObject } from '@nestjs/swagger';
import type { RawRouteDoc } from './raw-route.registry';

type PathItem = OpenAPIObject['paths'][string];

/** `/claude/:org/v1` → `/claude/{org}/v1`, and the names of its parameters. */
function openApiPath(path: string): { path: string; parameters: string[] } {
  const parameters: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => {
    parameters.push(name);
    return `{${name}}`;
  });
  return { path: converted, parameters };
}

function operationOf(doc: RawRouteDoc, parameters: string[]): NonNullable<PathItem['get']> {
  return {
    summary: doc.summary,
    tags: [doc.tag],
    parameters: parameters.map((name) => ({ name, in: 'path' as const, required: true, schema: { type: 'string' } })),
    ...(doc.method === 'POST'
      ? { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }
      : {}),
    responses: { '200': { description: 'OpenAI-shaped answer (JSON, or an event stream when asked for)' } },
  };
}

/**
 * The OpenAPI document with the raw routes' operations added: routes served before Express have no Nest
 * controller for Swagger to find, yet /docs must list them like every other route.
 */
export function withRawRouteDocs(document: OpenAPIObject, docs: readonly RawRouteDoc[]): OpenAPIObject {
  const paths: OpenAPIObject['paths'] = { ...document.paths };
  for (const doc of docs) {
    const { path, parameters } = openApiPath(doc.path);
    paths[path] = { ...paths[path], [doc.method.toLowerCase()]: operationOf(doc, parameters) };
  }
  return { ...document, paths };
}
