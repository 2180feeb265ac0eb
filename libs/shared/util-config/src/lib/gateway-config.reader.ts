import { readFileSync } from 'node:fs';
import { CORE_SCHEMA, YAMLException, load } from 'js-yaml';
import { ConfigValidationError, type Environment } from './env-schema';
import { gatewayConfigSchema } from './gateway-config.schema';
import type { GatewayConfigDocument, GatewayConfigFile } from './gateway-config.types';

/** Every problem with the file, each prefixed with the variable and the file it names. */
function fileError(source: string, problems: readonly string[]): ConfigValidationError {
  return new ConfigValidationError(problems.map((problem) => `GATEWAY_CONFIG ${source}: ${problem}`));
}

type YamlResult = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * YAML text to a value. The core schema keeps `2024-10-21` a text (the default schema would make it a date).
 * Only the reason and the place are reported: js-yaml's message quotes the lines around the error, which may
 * hold a secret someone wrote inline by mistake.
 */
function parseYaml(text: string): YamlResult {
  try {
    return { ok: true, value: load(text, { schema: CORE_SCHEMA }) };
  } catch (error) {
    if (error instanceof YAMLException) {
      const mark = error.mark as YAMLException['mark'] | undefined;
      const place = mark === undefined ? '' : ` (line ${mark.line + 1}, column ${mark.column + 1})`;
      return { ok: false, problem: `not valid YAML: ${error.reason}${place}` };
    }
    // Anything else js-yaml can throw (such as a stack overflow on absurd nesting) still means a bad file.
    return { ok: false, problem: 'not valid YAML' };
  }
}

/**
 * Keys that name a JavaScript object's prototype machinery: the schema's records drop them without a word (a
 * provider called `__proto__` would skip its name check, a `query: { __proto__: x }` would vanish).
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The place of each reserved key anywhere in the parsed YAML, as `providers.x.query.__proto__`. Each object is
 * looked at once: YAML aliases can repeat one node exponentially often (`a1: [*a0, *a0, …]`, `a2: [*a1, …]`).
 */
function reservedKeyProblems(value: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<object>();
  const pending: Array<{ node: unknown; path: readonly string[] }> = [{ node: value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, path } = next;
    if (typeof node !== 'object' || node === null || seen.has(node)) {
      continue;
    }
    seen.add(node);
    for (const key of Object.keys(node)) {
      const place = [...path, key];
      if (RESERVED_KEYS.has(key)) {
        problems.push(`${place.join('.')}: "${key}" is a reserved key name`);
      }
      pending.push({ node: (node as Record<string, unknown>)[key], path: place });
    }
  }
  return problems.sort();
}

/** The file's text as a validated document; throws ConfigValidationError naming each problem and its place. */
export function parseGatewayConfigText(text: string, source: string): GatewayConfigDocument {
  const yaml = parseYaml(text);
  if (!yaml.ok) {
    throw fileError(source, [yaml.problem]);
  }
  const reserved = reservedKeyProblems(yaml.value);
  if (reserved.length > 0) {
    throw fileError(source, reserved);
  }
  // An empty file (or one of comments only) is an empty configuration: every part is optional.
  const result = gatewayConfigSchema.safeParse(yaml.value ?? {});
  if (!result.success) {
    throw fileError(
      source,
      result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/** Reads and validates the file; a file that is missing or unreadable is named with the reason. */
export function readGatewayConfigDocument(source: string): GatewayConfigDocument {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    // Not `instanceof Error`: an fs error from another realm (a test runner's sandbox) would fail that test.
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown error';
    throw fileError(source, [`cannot be read (${code})`]);
  }
  return parseGatewayConfigText(text, source);
}

/**
 * Each provider's `api_keys` read from the environment (an empty variable counts as unset); every variable
 * that is not set is named with its place in the file. Values never appear in a problem.
 */
export function resolveApiKeys(
  document: GatewayConfigDocument,
  source: string,
  env: Environment,
): ReadonlyMap<string, readonly string[]> {
  const keys = new Map<string, string[]>();
  const problems: string[] = [];
  for (const reference of document.apiKeyReferences) {
    const value = env[reference.variable];
    if (value === undefined || value === '') {
      problems.push(`${reference.path}: environment variable ${reference.variable} is not set`);
      continue;
    }
    keys.set(reference.provider, [...(keys.get(reference.provider) ?? []), value]);
  }
  if (problems.length > 0) {
    throw fileError(source, problems);
  }
  return keys;
}

/** The file read once at start with its keys resolved. */
export function loadGatewayConfigFile(source: string, env: Environment): GatewayConfigFile {
  const document = readGatewayConfigDocument(source);
  return {
    source,
    compatibleProviders: document.compatibleProviders,
    apiKeys: resolveApiKeys(document, source, env),
    models: document.models,
    prices: document.prices,
  };
}
