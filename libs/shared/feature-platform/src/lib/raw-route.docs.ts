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

type Operation = NonNullable<PathItem['get']>;

/** The two ways a documented route authenticates: both are `Authorization: Bearer …`. */
const SCHEMES = {
  'admin-token': { type: 'http', scheme: 'bearer', description: 'GATEWAY_ADMIN_TOKEN' },
  'gateway-key': { type: 'http', scheme: 'bearer', description: 'a gateway key (gk-…)' },
} as const;

function requestBodyOf(doc: RawRouteDoc): Pick<Operation, 'requestBody'> {
  if (doc.requestSchema === undefined && doc.method !== 'POST') {
    return {};
  }
  const schema = doc.requestSchema ?? { type: 'object' };
  return { requestBody: { required: doc.method === 'POST', content: { 'application/json': { schema } } } };
}

function responsesOf(doc: RawRouteDoc): Operation['responses'] {
  const status = String(doc.successStatus ?? 200);
  if (doc.responseSchema === undefined) {
    return { [status]: { description: 'OpenAI-shaped answer (JSON, or an event stream when asked for)' } };
  }
  return { [status]: { description: 'JSON answer', content: { 'application/json': { schema: doc.responseSchema } } } };
}

function operationOf(doc: RawRouteDoc, parameters: string[]): Operation {
  const query = (doc.queryParameters ?? []).map((name) => ({
    name,
    in: 'query' as const,
    required: false,
    schema: { type: 'string' },
  }));
  return {
    summary: doc.summary,
    tags: [doc.tag],
    parameters: [
      ...parameters.map((name) => ({ name, in: 'path' as const, required: true, schema: { type: 'string' } })),
      ...query,
    ],
    ...requestBodyOf(doc),
    ...(doc.security === undefined ? {} : { security: [{ [doc.security]: [] }] }),
    responses: responsesOf(doc),
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
  const secured = docs.some((doc) => doc.security !== undefined);
  return secured
    ? {
        ...document,
        paths,
        components: {
          ...document.components,
          securitySchemes: { ...document.components?.securitySchemes, ...SCHEMES },
        },
      }
    : { ...document, paths };
}
