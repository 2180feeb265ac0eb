import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredOpenAiCompatibleProviders, providerKeyHeaders } from './configured-providers';
import { ConfigValidationError } from './env-schema';

const AZURE_AND_KIMI = `
providers:
  azure: { type: openai-compatible, base_url: https://example.openai.azure.com/openai, key_header: api-key, query: { api-version: "2024-10-21" } }
  kimi: { type: openai-compatible, base_url: https://api.moonshot.cn, api_keys: [env:KIMI_API_KEY] }
`;

const DEEPSEEK = { name: 'deepseek', baseUrl: 'https://api.deepseek.com' };

describe('configuredOpenAiCompatibleProviders', () => {
  let folder: string;
  let path: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'configured-providers-'));
    path = join(folder, 'gateway.yaml');
    writeFileSync(path, AZURE_AND_KIMI);
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  function problemsOf(action: () => unknown): readonly string[] {
    try {
      action();
    } catch (error) {
      if (error instanceof ConfigValidationError) {
        return error.problems;
      }
      throw error;
    }
    return [];
  }

  it('should give the env providers alone when no file is configured', () => {
    expect(configuredOpenAiCompatibleProviders({ OPENAI_COMPATIBLE_PROVIDERS: [DEEPSEEK] })).toEqual([DEEPSEEK]);
  });

  it('should give the env providers, then the file ones, when both declare providers', () => {
    const providers = configuredOpenAiCompatibleProviders({
      OPENAI_COMPATIBLE_PROVIDERS: [DEEPSEEK],
      GATEWAY_CONFIG: path,
    });
    expect(providers.map((provider) => provider.name)).toEqual(['deepseek', 'azure', 'kimi']);
    expect(providers[1]).toEqual({
      name: 'azure',
      baseUrl: 'https://example.openai.azure.com/openai',
      keyHeader: 'api-key',
      query: { 'api-version': '2024-10-21' },
    });
  });

  it('should stop naming both sources when a name is in the env and in the file', () => {
    const problems = problemsOf(() =>
      configuredOpenAiCompatibleProviders({
        OPENAI_COMPATIBLE_PROVIDERS: [DEEPSEEK, { name: 'kimi', baseUrl: 'https://a.example' }],
        GATEWAY_CONFIG: path,
      }),
    );
    expect(problems).toEqual([
      `provider name "kimi" is configured both in OPENAI_COMPATIBLE_PROVIDERS and in GATEWAY_CONFIG ${path}`,
    ]);
  });

  it('should not need the key variables when the file references keys', () => {
    const providers = configuredOpenAiCompatibleProviders({ OPENAI_COMPATIBLE_PROVIDERS: [], GATEWAY_CONFIG: path });
    expect(providers.map((provider) => provider.name)).toEqual(['azure', 'kimi']);
  });

  it('should stop naming the file when the file is missing', () => {
    const absent = join(folder, 'absent.yaml');
    expect(
      problemsOf(() =>
        configuredOpenAiCompatibleProviders({ OPENAI_COMPATIBLE_PROVIDERS: [], GATEWAY_CONFIG: absent }),
      ),
    ).toEqual([`GATEWAY_CONFIG ${absent}: cannot be read (ENOENT)`]);
  });
});

describe('providerKeyHeaders', () => {
  it('should list each key header once when several providers use it or none', () => {
    const providers = [
      DEEPSEEK,
      { name: 'a', baseUrl: 'https://a.example', keyHeader: 'api-key' },
      { name: 'b', baseUrl: 'https://b.example', keyHeader: 'ocp-apim-subscription-key' },
      { name: 'c', baseUrl: 'https://c.example', keyHeader: 'api-key' },
    ];
    expect(providerKeyHeaders(providers)).toEqual(['api-key', 'ocp-apim-subscription-key']);
  });
});
