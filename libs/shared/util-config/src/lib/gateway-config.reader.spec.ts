import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thrownError } from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from './env-schema';
import { loadGatewayConfigFile, parseGatewayConfigText, readGatewayConfigDocument } from './gateway-config.reader';

const SOURCE = 'gateway.yaml';

/** The example of the design, with its keys. */
const FULL_FILE = `
providers:
  deepseek: { type: openai-compatible, base_url: https://api.deepseek.com, models: ["deepseek-*"], api_keys: [env:DEEPSEEK_API_KEY] }
  azure:    { type: openai-compatible, base_url: https://example.openai.azure.com/openai/, key_header: api-key, query: { api-version: "2024-10-21" } }
  openai:   { api_keys: [env:OPENAI_API_KEY, env:OPENAI_API_KEY_2] }
models:
  - { name: fast, provider: gemini, model: gemini-2.5-flash, fallbacks: [gpt-4o-mini] }
prices:
  gpt-4o-mini: { input: 0.15, output: 0.60, cached_input: 0.075 }
`;

const KEYS = { DEEPSEEK_API_KEY: 'sk-deepseek-1', OPENAI_API_KEY: 'sk-openai-1', OPENAI_API_KEY_2: 'sk-openai-2' };

/** The problems a text has, or [] when it is good; fails the test when anything else is thrown. */
function problemsOf(text: string): readonly string[] {
  try {
    parseGatewayConfigText(text, SOURCE);
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      return error.problems;
    }
    throw error;
  }
}

describe('parseGatewayConfigText', () => {
  it('should read every part of the documented file when it is good', () => {
    const document = parseGatewayConfigText(FULL_FILE, SOURCE);
    expect(document.compatibleProviders).toEqual([
      { name: 'deepseek', baseUrl: 'https://api.deepseek.com', models: ['deepseek-*'] },
      {
        name: 'azure',
        baseUrl: 'https://example.openai.azure.com/openai',
        keyHeader: 'api-key',
        query: { 'api-version': '2024-10-21' },
      },
    ]);
    expect(document.apiKeyReferences).toEqual([
      { provider: 'deepseek', variable: 'DEEPSEEK_API_KEY', path: 'providers.deepseek.api_keys.0' },
      { provider: 'openai', variable: 'OPENAI_API_KEY', path: 'providers.openai.api_keys.0' },
      { provider: 'openai', variable: 'OPENAI_API_KEY_2', path: 'providers.openai.api_keys.1' },
    ]);
    expect(document.models).toEqual([
      { name: 'fast', provider: 'gemini', model: 'gemini-2.5-flash', fallbacks: ['gpt-4o-mini'] },
    ]);
    expect(document.prices).toEqual({ 'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 } });
  });

  it("should read a price's long-context prices, and refuse them without a whole positive start", () => {
    const document = parseGatewayConfigText(
      'prices:\n  my-pro: { input: 1.25, output: 10, long_context: { above_tokens: 200000, input: 2.5, output: 15, cached_input: 0.25 } }\n',
      SOURCE,
    );
    expect(document.prices).toEqual({
      'my-pro': {
        input: 1.25,
        output: 10,
        longContext: { aboveTokens: 200_000, input: 2.5, output: 15, cachedInput: 0.25 },
      },
    });
    for (const start of ['0', '1.5', '-1']) {
      expect(
        problemsOf(
          `prices:\n  my-pro: { input: 1, output: 1, long_context: { above_tokens: ${start}, input: 2, output: 2 } }\n`,
        ),
      ).toEqual([expect.stringContaining('prices.my-pro.long_context.above_tokens')]);
    }
    expect(problemsOf('prices:\n  my-pro: { input: 1, output: 1, long_context: { input: 2, output: 2 } }\n')).toEqual([
      expect.stringContaining('prices.my-pro.long_context.above_tokens'),
    ]);
  });

  // Regression: a base_url's login, query and fragment were accepted, then dropped by the relay target.
  it.each([
    ['a login', 'https://user:secret@api.example.com'],
    ['a query', 'https://api.example.com/openai?api-version=2024-10-21'],
    ['a fragment', 'https://api.example.com#frag'],
  ])('should refuse a base_url with %s, quoting nothing of it', (_what, url) => {
    const problems = problemsOf(`providers:\n  x: { type: openai-compatible, base_url: "${url}" }\n`);
    expect(problems).toEqual([expect.stringContaining('providers.x.base_url')]);
    expect(problems.join('\n')).not.toContain('secret');
    expect(problems.join('\n')).not.toContain('api.example.com');
  });

  it("should read a price's cache-write price, and refuse a negative one", () => {
    const document = parseGatewayConfigText(
      'prices:\n  my-claude: { input: 3, output: 15, cache_write: 3.75 }\n',
      SOURCE,
    );
    expect(document.prices).toEqual({ 'my-claude': { input: 3, output: 15, cacheWrite: 3.75 } });
    expect(problemsOf('prices:\n  my-claude: { input: 3, output: 15, cache_write: -1 }\n')).toEqual([
      expect.stringContaining('prices.my-claude.cache_write'),
    ]);
  });

  it.each([
    ['empty', ''],
    ['only comments', '# nothing configured yet\n'],
    ['an empty mapping', '{}'],
    ['empty parts', 'providers: {}\nmodels: []\nprices: {}'],
  ])('should give an empty configuration when the file is %s', (_, text) => {
    expect(parseGatewayConfigText(text, SOURCE)).toEqual({
      compatibleProviders: [],
      apiKeyReferences: [],
      models: [],
      prices: {},
    });
  });

  it('should keep an unquoted date-like query value a text when the value looks like a date', () => {
    const text =
      'providers:\n  azure: { type: openai-compatible, base_url: https://a.example, query: { api-version: 2024-10-21 } }';
    expect(parseGatewayConfigText(text, SOURCE).compatibleProviders[0]?.query).toEqual({ 'api-version': '2024-10-21' });
  });

  it('should lower-case the key header and treat authorization as the default when either is written', () => {
    const text =
      'providers:\n' +
      '  a: { type: openai-compatible, base_url: https://a.example, key_header: API-Key }\n' +
      '  b: { type: openai-compatible, base_url: https://b.example, key_header: Authorization, query: {} }';
    expect(parseGatewayConfigText(text, SOURCE).compatibleProviders).toEqual([
      { name: 'a', baseUrl: 'https://a.example', keyHeader: 'api-key' },
      { name: 'b', baseUrl: 'https://b.example' },
    ]);
  });

  it.each([
    ['an unknown top-level key', 'routes: []', '(root): Unrecognized key: "routes"'],
    ['a list at the root', '- a', '(root): Invalid input'],
    ['providers as a list', 'providers: [a]', 'providers: Invalid input'],
    ['no base_url', 'providers:\n  x: { type: openai-compatible }', 'providers.x.base_url:'],
    [
      'a bad base_url',
      'providers:\n  x: { type: openai-compatible, base_url: ftp://x.example }',
      'providers.x.base_url:',
    ],
    ['no type', 'providers:\n  x: { base_url: https://x.example }', 'providers.x.type:'],
    ['another type', 'providers:\n  x: { type: anthropic, base_url: https://x.example }', 'providers.x.type:'],
    [
      'an unknown provider field',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, key: 1 }',
      'providers.x: Unrecognized key: "key"',
    ],
    [
      'a reserved key header',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, key_header: host }',
      'providers.x.key_header: this header is set by the relay',
    ],
    [
      'a key header with spaces',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, key_header: "api key" }',
      'providers.x.key_header: a header name',
    ],
    [
      'a number as query value',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, query: { v: 1.10 } }',
      'providers.x.query.v: a text is expected',
    ],
    [
      'a bad model pattern',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, models: ["*"] }',
      'providers.x.models.0:',
    ],
    [
      'a star inside a model pattern',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, models: ["a*b"] }',
      'providers.x.models.0:',
    ],
    [
      'a name that is not lowercase',
      'providers:\n  DeepSeek: { type: openai-compatible, base_url: https://x.example }',
      'providers.DeepSeek: provider name "DeepSeek" must be lowercase',
    ],
    [
      'a built-in prefix',
      'providers:\n  admin: { type: openai-compatible, base_url: https://x.example }',
      'providers.admin: provider name "admin" collides with the built-in prefix /admin',
    ],
    [
      'a built-in provider redeclared',
      'providers:\n  openai: { type: openai-compatible, base_url: https://x.example }',
      'providers.openai: provider name "openai" collides',
    ],
    [
      'a built-in provider with a base_url',
      'providers:\n  gemini: { base_url: https://x.example }',
      'providers.gemini: Unrecognized key: "base_url"',
    ],
    [
      'a key written inline',
      'providers:\n  openai: { api_keys: [sk-live-secret] }',
      'providers.openai.api_keys.0: must be an env:NAME reference',
    ],
    ['a model route without its model', 'models:\n  - { name: fast, provider: gemini }', 'models.0.model:'],
    [
      'a model route declared twice',
      'models:\n  - { name: a, provider: openai, model: x }\n  - { name: a, provider: openai, model: y }',
      'models.1: model "a" is declared more than once',
    ],
    ['a negative price', 'prices:\n  gpt-4o: { input: -1, output: 1 }', 'prices.gpt-4o.input:'],
    ['a price without output', 'prices:\n  gpt-4o: { input: 1 }', 'prices.gpt-4o.output:'],
  ])('should name the place of the problem when the file has %s', (_, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`GATEWAY_CONFIG ${SOURCE}: ${expected}`);
  });

  it.each([
    ['a provider', 'providers:\n  __proto__: { type: openai-compatible, base_url: https://x.example }', 'providers'],
    [
      'a query parameter',
      'providers:\n  x: { type: openai-compatible, base_url: https://x.example, query: { __proto__: v } }',
      'providers.x.query',
    ],
    ['a price', 'prices:\n  __proto__: { input: 1, output: 1 }', 'prices'],
  ])('should refuse an object prototype key naming its path when it names %s', (_, text, parent) => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(problemsOf(text.replace('__proto__', key))).toEqual([
        `GATEWAY_CONFIG ${SOURCE}: ${parent}.${key}: "${key}" is a reserved key name`,
      ]);
    }
  });

  it('should look at each node once when YAML aliases repeat it', () => {
    const levels = ['a0: &a0 { k: v }'];
    for (let level = 1; level < 12; level += 1) {
      levels.push(`a${level}: &a${level} [${Array.from({ length: 10 }, () => `*a${level - 1}`).join(', ')}]`);
    }
    expect(problemsOf(`extra:\n${levels.map((line) => `  ${line}`).join('\n')}`)).toEqual([
      `GATEWAY_CONFIG ${SOURCE}: (root): Unrecognized key: "extra"`,
    ]);
  });

  it('should list every problem at once when several parts are bad', () => {
    const text =
      'providers:\n  v1: { type: openai-compatible, base_url: nope }\nmodels: {}\nprices: { a: 1 }\nextra: true';
    expect(problemsOf(text)).toHaveLength(5);
  });

  it('should name the line and never quote the file when the text is not YAML', () => {
    const problems = problemsOf('providers:\n  openai: { api_keys: [sk-live-secret\n  other: 1');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^GATEWAY_CONFIG gateway\.yaml: not valid YAML: .+ \(line \d+, column \d+\)$/);
    expect(problems[0]).not.toContain('sk-live-secret');
  });

  it('should never quote an inline key when it refuses one', () => {
    expect(problemsOf('providers:\n  openai: { api_keys: [sk-live-secret] }').join('\n')).not.toContain('sk-live');
  });

  it('should throw only ConfigValidationError when the text is anything at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        problemsOf(text);
      }),
      { numRuns: 300 },
    );
  });

  it('should throw only ConfigValidationError when the document is any JSON value in the known parts', () => {
    const part = fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
    const providerEntry = fc.record(
      { type: fc.constant('openai-compatible'), base_url: fc.jsonValue(), key_header: fc.jsonValue(), query: part },
      { requiredKeys: [] },
    );
    const file = fc.record(
      {
        providers: fc.oneof(part, fc.dictionary(fc.constantFrom('openai', 'azure', 'v1', 'x'), providerEntry)),
        models: part,
        prices: part,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(file, (value) => {
        problemsOf(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });
});

describe('loadGatewayConfigFile', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  function fileWith(name: string, text: string): string {
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
  }

  const errorOf = (action: () => unknown): ConfigValidationError => thrownError(action, ConfigValidationError);

  it('should resolve each env: key from the environment in order when every variable is set', () => {
    const file = loadGatewayConfigFile(fileWith('full.yaml', FULL_FILE), KEYS);
    expect(file.apiKeys.get('deepseek')).toEqual(['sk-deepseek-1']);
    expect(file.apiKeys.get('openai')).toEqual(['sk-openai-1', 'sk-openai-2']);
    expect(file.compatibleProviders.map((provider) => provider.name)).toEqual(['deepseek', 'azure']);
  });

  it('should name every variable that is unset or empty when keys are missing', () => {
    const path = fileWith('missing-keys.yaml', FULL_FILE);
    const error = errorOf(() => loadGatewayConfigFile(path, { OPENAI_API_KEY: 'sk-openai-1', OPENAI_API_KEY_2: '' }));
    expect(error.problems).toEqual([
      `GATEWAY_CONFIG ${path}: providers.deepseek.api_keys.0: environment variable DEEPSEEK_API_KEY is not set`,
      `GATEWAY_CONFIG ${path}: providers.openai.api_keys.1: environment variable OPENAI_API_KEY_2 is not set`,
    ]);
    expect(error.message).not.toContain('sk-openai-1');
  });

  it('should name the file and the reason when the file is missing', () => {
    const path = join(folder, 'absent.yaml');
    expect(errorOf(() => readGatewayConfigDocument(path)).problems).toEqual([
      `GATEWAY_CONFIG ${path}: cannot be read (ENOENT)`,
    ]);
  });

  it('should name the file and the reason when the path is a folder', () => {
    expect(errorOf(() => readGatewayConfigDocument(folder)).problems).toEqual([
      `GATEWAY_CONFIG ${folder}: cannot be read (EISDIR)`,
    ]);
  });
});
