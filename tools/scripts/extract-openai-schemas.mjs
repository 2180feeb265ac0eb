#!/usr/bin/env node
// Extracts from OpenAI's OpenAPI description the component schemas our shape checks use (and every schema they
// reference), and writes them with their source and version to libs/shared/testing-fakes/specs/. The tests read
// only that file, so a checkout needs nothing outside itself.
//
// Usage: node tools/scripts/extract-openai-schemas.mjs <path to openapi.yaml> [--source <where it came from>]
// The description is published by OpenAI at https://github.com/openai/openai-openapi (MIT licence).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUTPUT = join(root, 'libs', 'shared', 'testing-fakes', 'specs', 'openai-openapi.schemas.json');
const ROOTS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'ListModelsResponse',
  'ErrorResponse',
];
const COMPONENT_PREFIX = '#/components/schemas/';
const DEFAULT_SOURCE = 'https://github.com/openai/openai-openapi (openapi.yaml)';

function usage(message) {
  process.stderr.write(`${message}\nusage: extract-openai-schemas.mjs <openapi.yaml> [--source <text>]\n`);
  process.exit(2);
}

function parseArguments(argv) {
  const [input, ...rest] = argv;
  if (input === undefined || input.startsWith('--')) {
    usage('missing the path of the OpenAPI description');
  }
  const sourceAt = rest.indexOf('--source');
  const source = sourceAt === -1 ? DEFAULT_SOURCE : rest[sourceAt + 1];
  if (source === undefined) {
    usage('--source needs a value');
  }
  return { input, source };
}

/** Every component name `node` refers to, directly or in nested schemas. */
function referencedComponents(node, into) {
  if (Array.isArray(node)) {
    node.forEach((item) => referencedComponents(item, into));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_PREFIX)) {
        into.add(value.slice(COMPONENT_PREFIX.length));
      } else {
        referencedComponents(value, into);
      }
    }
  }
  return into;
}

/** The roots and everything reachable from them, in name order (a stable file). */
function closure(schemas) {
  const wanted = new Set();
  const pending = [...ROOTS];
  while (pending.length > 0) {
    const name = pending.pop();
    if (wanted.has(name)) {
      continue;
    }
    if (!(name in schemas)) {
      throw new Error(`components.schemas has no ${name}`);
    }
    wanted.add(name);
    pending.push(...referencedComponents(schemas[name], new Set()));
  }
  return Object.fromEntries([...wanted].sort().map((name) => [name, schemas[name]]));
}

function main() {
  const { input, source } = parseArguments(process.argv.slice(2));
  const text = readFileSync(input, 'utf8');
  const document = load(text);
  const schemas = document?.components?.schemas;
  if (schemas === undefined || typeof schemas !== 'object') {
    throw new Error(`${input} has no components.schemas`);
  }
  const extract = {
    source,
    title: document.info?.title ?? null,
    version: document.info?.version ?? null,
    openapi: document.openapi ?? null,
    sha256: createHash('sha256').update(text).digest('hex'),
    roots: ROOTS,
    schemas: closure(schemas),
  };
  writeFileSync(OUTPUT, `${JSON.stringify(extract, null, 1)}\n`);
  process.stdout.write(
    `wrote ${Object.keys(extract.schemas).length} schemas of OpenAPI ${extract.version} to ${OUTPUT}\n`,
  );
}

main();
