import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  AZURE_CHAT_PATH,
  type FakeUpstream,
  azureArrival,
  startFakeAzureOpenAi,
  startFakeOpenAi,
  streamedText,
  thrownError,
} from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadGatewayConfig } from '../src/config/gateway.env';
import { loadOpenAiRelayConfig } from '../../openai-relay/src/config/openai-relay.env';
import { exited } from './support/launcher-process';
import { type Stack, startStack } from './support/stack';

const root = join(__dirname, '..', '..', '..');
const EXAMPLE = join(root, 'docs', 'gateway-config.example.yaml');
const AZURE_KEY = 'azure-key-0123456789abcdef';

/** The ConfigValidationError `action` throws (fails the test when it throws nothing or something else). */
const configErrorOf = (action: () => unknown): ConfigValidationError => thrownError(action, ConfigValidationError);

describe('GATEWAY_CONFIG through the gateway', () => {
  let folder: string;
  let azure: FakeUpstream;
  let deepseek: FakeUpstream;
  let stack: Stack;
  let configPath: string;

  function writeConfig(name: string, text: string): string {
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
  }

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'gateway-config-file-'));
    azure = await startFakeAzureOpenAi();
    deepseek = await startFakeOpenAi();
    configPath = writeConfig(
      'gateway.yaml',
      [
        'providers:',
        `  deepseek: { type: openai-compatible, base_url: ${deepseek.url}, api_keys: [env:DEEPSEEK_API_KEY] }`,
        `  azure: { type: openai-compatible, base_url: ${azure.url}/openai, key_header: api-key, query: { api-version: "2024-10-21" } }`,
      ].join('\n'),
    );
    stack = await startStack({
      relayEnv: { GATEWAY_CONFIG: configPath },
      gatewayEnv: { GATEWAY_CONFIG: configPath, DEEPSEEK_API_KEY: 'sk-deepseek-team' },
    });
  });

  afterAll(async () => {
    await stack.close();
    await Promise.all([azure.close(), deepseek.close()]);
    rmSync(folder, { recursive: true, force: true });
  });

  const azureClient = (): OpenAI =>
    new OpenAI({
      apiKey: AZURE_KEY,
      baseURL: `${stack.gatewayUrl}/azure/deployments/gpt-4o`,
      maxRetries: 0,
      timeout: 10_000,
    });

  it('should reach Azure with api-key and api-version through both hops when the client uses the OpenAI SDK', async () => {
    const completion = await azureClient().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    expect(azureArrival(azure.lastRequest(AZURE_CHAT_PATH))).toEqual({
      url: `${AZURE_CHAT_PATH}?api-version=2024-10-21`,
      apiKey: AZURE_KEY,
      authorization: undefined,
    });
  });

  it('should stream from Azure through both hops when the client asks for a stream', async () => {
    const stream = await azureClient().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream' }],
      stream: true,
    });
    expect(await streamedText(stream)).toBe('Hello from the fake OpenAI upstream. You said: stream');
    expect(azure.lastRequest(AZURE_CHAT_PATH)?.headers['api-key']).toBe(AZURE_KEY);
  });

  it('should relay a file provider with the client key as sent when it has no key header', async () => {
    const client = new OpenAI({ apiKey: 'sk-client-0123', baseURL: `${stack.gatewayUrl}/deepseek/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'deepseek-chat',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toContain('You said: ping');
    expect(deepseek.lastRequest('/v1/chat/completions')?.headers.authorization).toBe('Bearer sk-client-0123');
  });

  it('should start the gateway with every file provider when a key variable is not set', () => {
    // With GATEWAY_KEYS=off the gateway holds no provider key: it checks the env:NAME references only.
    const config = loadGatewayConfig({ GATEWAY_CONFIG: configPath });
    expect(config.gateway.compatibleProviderNames).toEqual(['deepseek', 'azure']);
    expect(config.platform.secretHeaderNames).toEqual(['api-key']);
  });

  it('should stop the gateway start naming the place when a key is written instead of referenced', () => {
    const path = writeConfig('inline-key.yaml', 'providers:\n  openai: { api_keys: [sk-inline-0123456789] }');
    const error = configErrorOf(() => loadGatewayConfig({ GATEWAY_CONFIG: path }));
    expect(error.problems).toEqual([
      `GATEWAY_CONFIG ${path}: providers.openai.api_keys.0: must be an env:NAME reference (a key is never written in the file)`,
    ]);
  });

  it('should stop the gateway start naming the place when the file has a bad entry', () => {
    const path = writeConfig(
      'bad.yaml',
      'providers:\n  azure: { type: openai-compatible, base_url: https://a.example, key_header: cookie }',
    );
    expect(configErrorOf(() => loadGatewayConfig({ GATEWAY_CONFIG: path })).message).toContain(
      `GATEWAY_CONFIG ${path}: providers.azure.key_header: this header is set by the relay itself`,
    );
  });

  // Regression: an alias naming no provider started cleanly, was listed, and answered 404 for its own name.
  it('should stop the gateway start naming the place when an alias names no provider or falls back to itself', () => {
    const path = writeConfig(
      'bad-alias.yaml',
      'models:\n  - { name: fast, provider: deepsek, model: deepseek-chat, fallbacks: [fast] }',
    );
    const error = configErrorOf(() => loadGatewayConfig({ GATEWAY_CONFIG: path }));
    expect(error.problems).toEqual([
      expect.stringContaining(`GATEWAY_CONFIG ${path}: models.0.provider: no provider is named "deepsek"`),
      `GATEWAY_CONFIG ${path}: models.0.fallbacks.0: "fast" cannot fall back to itself`,
    ]);
  });

  it('should exit 1 naming the file and the problem when the gateway starts with a bad file', async () => {
    const path = writeConfig('unknown-part.yaml', 'provider:\n  azure: {}\n');
    const child = spawn(process.execPath, [join(root, 'apps/gateway/dist/main.js')], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', GATEWAY_CONFIG: path },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A gateway that wrongly started would listen forever: it is stopped after a bound and the test fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      expect(await exited(child)).toBe(1);
    } finally {
      clearTimeout(timer);
    }
    expect(stderr).toContain(`GATEWAY_CONFIG ${path}: (root): Unrecognized key: "provider"`);
  }, 15_000);
});

describe('docs/gateway-config.example.yaml', () => {
  it('should start the gateway and the relay with its providers when the file is the example', () => {
    const gateway = loadGatewayConfig({ GATEWAY_CONFIG: EXAMPLE });
    expect(gateway.gateway.compatibleProviderNames).toEqual(['deepseek', 'azure']);
    const relay = loadOpenAiRelayConfig({ GATEWAY_CONFIG: EXAMPLE });
    expect(relay.relay.compatibleProviders).toEqual([
      { name: 'deepseek', baseUrl: 'https://api.deepseek.com', models: ['deepseek-*'] },
      {
        name: 'azure',
        baseUrl: 'https://example.openai.azure.com/openai',
        keyHeader: 'api-key',
        query: { 'api-version': '2024-10-21' },
      },
    ]);
  });
});
