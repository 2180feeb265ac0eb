// Validates OpenAI-shaped objects against OpenAI's own OpenAPI description, through the schemas extracted from it into
// ../../specs/openai-openapi.schemas.json (source, version and digest recorded there; made by
// tools/scripts/extract-openai-schemas.mjs). The description is OpenAPI 3.1 but still uses the 3.0 keywords `nullable`
// and boolean `exclusiveMinimum`/`exclusiveMaximum` in places; both are rewritten into plain JSON Schema 2020-12 before
// Ajv sees them.
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type OpenAiShapeName =
  'CreateChatCompletionResponse' | 'CreateChatCompletionStreamResponse' | 'ListModelsResponse' | 'ErrorResponse';

type JsonObject = { [key: string]: unknown };

const SPEC_ID = 'https://openai-proxy.local/openai-openapi.json';
const COMPONENT_PREFIX = '#/components/schemas/';
/** Keywords whose presence means null cannot be added to `type` alone: the subschemas would still refuse it. */
const COMPOSITE_KEYWORDS = ['$ref', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'const'];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The extract inside this lib: `src/lib` and `dist/lib` are both two folders below the lib's root. */
export function openAiSchemasPath(): string {
  return join(__dirname, '..', '..', 'specs', 'openai-openapi.schemas.json');
}

/** OpenAPI 3.0 `exclusiveMinimum: true` + `minimum: n` is 2020-12 `exclusiveMinimum: n` (same for the maximum). */
function convertExclusiveBound(schema: JsonObject, exclusive: string, inclusive: string): void {
  const flag = schema[exclusive];
  if (typeof flag !== 'boolean') {
    return;
  }
  delete schema[exclusive];
  if (flag && typeof schema[inclusive] === 'number') {
    schema[exclusive] = schema[inclusive];
    delete schema[inclusive];
  }
}

/** `nullable: true` means "or null": widen `type` (and `enum`) when that is enough, else wrap in `anyOf` with null. */
function convertNullable(schema: JsonObject): JsonObject {
  const nullable = schema['nullable'];
  delete schema['nullable'];
  if (nullable !== true) {
    return schema;
  }
  const type = schema['type'];
  const simple = COMPOSITE_KEYWORDS.every((keyword) => !(keyword in schema));
  if (simple && (typeof type === 'string' || Array.isArray(type))) {
    const types: unknown[] = Array.isArray(type) ? type : [type];
    schema['type'] = types.includes('null') ? types : [...types, 'null'];
    const allowed: unknown = schema['enum'];
    if (Array.isArray(allowed) && !allowed.includes(null)) {
      schema['enum'] = [...(allowed as unknown[]), null];
    }
    return schema;
  }
  // No usable `type` (a bare $ref, an anyOf/oneOf/allOf, or no constraint at all): the original schema or null.
  return { anyOf: [schema, { type: 'null' }] };
}

/** Keywords whose values are instance data (or documentation), never schemas: copied as they are. */
function isDataKeyword(key: string): boolean {
  return ['default', 'enum', 'const', 'example', 'examples'].includes(key) || key.startsWith('x-');
}

/**
 * A converted deep copy of one schema node of the component `component`; every nested schema is converted too:
 * `#/components/schemas/X` refs point into the single document Ajv gets, 2019-09 `$recursiveRef: "#"` (with its
 * `$recursiveAnchor`) becomes a plain `$ref` to the enclosing component, duplicate `required` entries are dropped,
 * then the 3.0 boolean bounds and `nullable` are rewritten.
 */
function convertSchema(node: unknown, component: string): unknown {
  if (Array.isArray(node)) {
    return node.map((item) => convertSchema(item, component));
  }
  if (!isObject(node)) {
    return node;
  }
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_PREFIX)) {
      copy[key] = refTo(value.slice(COMPONENT_PREFIX.length));
    } else if (key === '$recursiveRef' && value === '#') {
      copy['$ref'] = refTo(component);
    } else if (key === '$recursiveAnchor') {
      continue;
    } else if (key === 'required' && Array.isArray(value)) {
      copy[key] = [...new Set(value)];
    } else if (isDataKeyword(key)) {
      copy[key] = value;
    } else {
      copy[key] = convertSchema(value, component);
    }
  }
  convertExclusiveBound(copy, 'exclusiveMinimum', 'minimum');
  convertExclusiveBound(copy, 'exclusiveMaximum', 'maximum');
  return 'nullable' in copy ? convertNullable(copy) : copy;
}

function refTo(component: string): string {
  return `${SPEC_ID}#/$defs/${component}`;
}

/** `components.schemas`, each converted with its own name as the target of its recursive references. */
function convertComponents(schemas: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, convertSchema(schema, name)]));
}

/** Every `format` string used anywhere in the schemas. */
function collectFormats(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((item) => collectFormats(item, into));
  } else if (isObject(node)) {
    if (typeof node['format'] === 'string') {
      into.add(node['format']);
    }
    Object.values(node).forEach((value) => collectFormats(value, into));
  }
  return into;
}

function addFormats(ajv: Ajv2020, used: Set<string>): void {
  // `unixtime` is "the Unix timestamp (in seconds)": an integer, and below 1e11 so milliseconds are caught.
  ajv.addFormat('unixtime', {
    type: 'number',
    validate: (value: number) => Number.isInteger(value) && value >= 0 && value < 1e11,
  });
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  for (const name of used) {
    if (!(name in ajv.formats)) {
      // Width and encoding hints (int64, double, float, binary, …): annotations, nothing to check.
      ajv.addFormat(name, true);
    }
  }
}

let validator: Ajv2020 | undefined;
const compiled = new Map<OpenAiShapeName, ValidateFunction>();

function buildValidator(): Ajv2020 {
  const extract: unknown = JSON.parse(readFileSync(openAiSchemasPath(), 'utf8'));
  const schemas = isObject(extract) ? extract['schemas'] : undefined;
  if (!isObject(schemas)) {
    throw new Error(`${openAiSchemasPath()} has no schemas`);
  }
  const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
  addFormats(ajv, collectFormats(schemas, new Set()));
  ajv.addSchema({ $id: SPEC_ID, $defs: convertComponents(schemas) });
  return ajv;
}

function validatorFor(schemaName: OpenAiShapeName): ValidateFunction {
  const known = compiled.get(schemaName);
  if (known) {
    return known;
  }
  validator ??= buildValidator();
  const validate = validator.compile({ $ref: refTo(schemaName) });
  compiled.set(schemaName, validate);
  return validate;
}

function preview(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const schemaPath = error.schemaPath.replace(`${SPEC_ID}#`, '#');
  return `${where} ${error.message ?? 'is invalid'} ${preview(error.params)} at ${schemaPath}; value: ${preview(error.data)}`;
}

/**
 * Checks `value` against `components.schemas[schemaName]` of OpenAI's OpenAPI description. Returns one readable
 * line per violation (instance path, message, schema path, offending value); empty when the value is valid.
 */
export function validateOpenAiShape(schemaName: OpenAiShapeName, value: unknown): string[] {
  const validate = validatorFor(schemaName);
  if (validate(value)) {
    return [];
  }
  return (validate.errors ?? []).map(describeError);
}
