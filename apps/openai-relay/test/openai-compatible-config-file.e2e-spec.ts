import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import request from 'supertest';
import {
  AZURE_CHAT_PATH,
  type FakeUpstream,
  FakeWebSocketUpstream,
  azureArrival,
  closeOf,
  openWebSocket,
  startFakeAzureOpenAi,
  startFakeOpenAi,
  streamedText,
  thrownError,
  webSocketUrl,
} from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { type RunningRelay, startRelay } from './support/relay-app';

const AZURE_KEY = 'azure-key-0123456789abcdef';
/** How the relay must send an Azure chat: the configured api-version, the key as api-key, no Authorization. */
const AZURE_SENT = { url: `${AZURE_CHAT_PATH}?api-version=2024-10-21`, apiKey: AZURE_KEY, authorization: undefined };

describe('GATEWAY_CONFIG providers in the openai-relay', () => {
  let folder: string;
  let azure: FakeUpstream;
  let realtime: FakeWebSocketUpstream;
  let deepseek: FakeUpstream;
  let relay: RunningRelay;

  /** The OpenAI SDK on `/azure` + `path` (a deployment's chat lives under its path, the models list does not). */
  const azureClient = (
    path = '/deployments/gpt-4o',
    options: { defaultQuery?: Record<string, string>; defaultHeaders?: Record<string, string> } = {},
  ): OpenAI => new OpenAI({ apiKey: AZURE_KEY, baseURL: `${relay.url}/azure${path}`, maxRetries: 0, ...options });

  function writeConfig(name: string, text: string): string {
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
  }

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'relay-config-file-'));
    azure = await startFakeAzureOpenAi();
    realtime = await FakeWebSocketUpstream.start();
    deepseek = await startFakeOpenAi();
    const config = writeConfig(
      'gateway.yaml',
      [
        'providers:',
        `  azure: { type: openai-compatible, base_url: ${azure.url}/openai, key_header: api-key, query: { api-version: "2024-10-21" } }`,
        `  azure-realtime: { type: openai-compatible, base_url: ${realtime.url}/openai, key_header: api-key, query: { api-version: "2024-10-01-preview" } }`,
        // Keys are the gateway's business: the relay starts without KIMI_API_KEY set.
        '  kimi: { type: openai-compatible, base_url: https://api.moonshot.cn, api_keys: [env:KIMI_API_KEY] }',
      ].join('\n'),
    );
    relay = await startRelay({
      OPENAI_API_BASE: 'http://127.0.0.1:9',
      OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${deepseek.url}`,
      GATEWAY_CONFIG: config,
    });
  });

  afterAll(async () => {
    await relay.app.close();
    await Promise.all([azure.close(), realtime.close(), deepseek.close()]);
    rmSync(folder, { recursive: true, force: true });
  });

  it('should send the key as api-key with the api-version and the deployment path when the client uses the OpenAI SDK', async () => {
    const completion = await azureClient().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    expect(azureArrival(azure.lastRequest(AZURE_CHAT_PATH))).toEqual(AZURE_SENT);
  });

  it('should stream the chunks with the same header and query when the client asks for a stream', async () => {
    const stream = await azureClient().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: '流式' }],
      stream: true,
    });
    expect(await streamedText(stream)).toBe('Hello from the fake OpenAI upstream. You said: 流式');
    expect(azureArrival(azure.lastRequest(AZURE_CHAT_PATH))).toEqual(AZURE_SENT);
  });

  it('should keep the configured api-version and the other parameters when the client sends its own', async () => {
    await azureClient('', { defaultQuery: { 'api-version': '2023-05-15', trace: 'on' } }).models.list();
    expect(azure.lastRequest('/openai/models')?.url).toBe('/openai/models?trace=on&api-version=2024-10-21');
  });

  it('should pass the client api-key through when the client already sends one', async () => {
    await azureClient('', { defaultHeaders: { 'api-key': 'client-own-key' } }).models.list();
    const arrived = azure.lastRequest('/openai/models');
    expect(arrived?.headers['api-key']).toBe('client-own-key');
  });

  it('should leave the env provider untouched when it has neither a key header nor a query', async () => {
    await new OpenAI({
      apiKey: 'sk-test-0123456789',
      baseURL: `${relay.url}/deepseek/v1`,
      maxRetries: 0,
    }).models.list();
    const arrived = deepseek.lastRequest('/v1/models');
    expect(arrived?.url).toBe('/v1/models');
    expect(arrived?.headers.authorization).toBe('Bearer sk-test-0123456789');
    expect(arrived?.headers['api-key']).toBeUndefined();
  });

  it('should move the key and set the query on a WebSocket upgrade when the provider has both', async () => {
    const client = await openWebSocket(
      webSocketUrl(relay.url, '/azure-realtime/realtime?deployment=gpt-4o-realtime&api-version=old'),
      [],
      { headers: { authorization: `Bearer ${AZURE_KEY}` } },
    );
    const connection = await realtime.waitForConnection();
    expect(connection.url).toBe('/openai/realtime?deployment=gpt-4o-realtime&api-version=2024-10-01-preview');
    expect(connection.headers['api-key']).toBe(AZURE_KEY);
    expect(connection.headers.authorization).toBeUndefined();
    const closed = closeOf(client);
    client.close(1000, 'done');
    expect((await closed).code).toBe(1000);
  });

  it('should show the providers of the env and of the file in /readyz when both declare some', async () => {
    const ready = await request(relay.url).get('/readyz');
    expect(Object.keys(ready.body.checks)).toEqual(['deepseek', 'azure', 'azure-realtime', 'kimi']);
  });

  it.each([
    ['is missing', (): string => join(folder, 'absent.yaml'), 'cannot be read (ENOENT)'],
    ['is not YAML', (): string => writeConfig('broken.yaml', 'providers: [\n'), 'not valid YAML'],
    [
      'has a bad base_url',
      (): string => writeConfig('bad-url.yaml', 'providers:\n  x: { type: openai-compatible, base_url: nope }'),
      'providers.x.base_url: Invalid URL',
    ],
    [
      'takes a built-in prefix',
      (): string =>
        writeConfig('prefix.yaml', 'providers:\n  docs: { type: openai-compatible, base_url: https://a.example }'),
      'providers.docs: provider name "docs" collides with the built-in prefix /docs',
    ],
    [
      'repeats an env provider',
      (): string =>
        writeConfig('twice.yaml', 'providers:\n  deepseek: { type: openai-compatible, base_url: https://a.example }'),
      'provider name "deepseek" is configured both in OPENAI_COMPATIBLE_PROVIDERS and in GATEWAY_CONFIG',
    ],
  ])('should stop the start naming the file and the problem when the file %s', (_, pathOf, named) => {
    const path = pathOf();
    const { message } = thrownError(
      () =>
        loadOpenAiRelayConfig({
          OPENAI_COMPATIBLE_PROVIDERS: 'deepseek=https://api.deepseek.com',
          GATEWAY_CONFIG: path,
        }),
      ConfigValidationError,
    );
    expect(message).toContain(path);
    expect(message).toContain(named);
  });
});
