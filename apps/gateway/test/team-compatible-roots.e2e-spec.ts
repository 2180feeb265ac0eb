import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, fakeChatCompletions, json } from '@openai-proxy/testing-fakes';
import { teamClient } from './support/admin-api';
import { type Stack, startStack } from './support/stack';
import { createGatewayKey } from './support/team';

/** Zhipu's API root: its paths have no `/v1` (`/api/paas/v4/chat/completions`). */
const ZHIPU_ROOT = '/api/paas/v4';
const ZHIPU_KEY = 'zhipu-team-key-0123456789';
const GLM_MODELS = ['glm-4-plus', 'glm-4-flash'];

// Regression: team mode sent every configured provider's calls to `<base>/v1/…`, so a provider whose base URL is
// its API root (Zhipu's `/api/paas/v4`, Ark's `/api/v3`) got `/api/paas/v4/v1/chat/completions`.
describe('team mode: a configured provider whose base URL ends in its API version', () => {
  let zhipu: FakeUpstream;
  let folder: string;
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    zhipu = (await FakeUpstream.start())
      .on('POST', `${ZHIPU_ROOT}/chat/completions`, fakeChatCompletions)
      .on(
        'GET',
        `${ZHIPU_ROOT}/models`,
        json(200, { object: 'list', data: GLM_MODELS.map((id) => ({ id, object: 'model', owned_by: 'zhipu' })) }),
      );
    folder = mkdtempSync(join(tmpdir(), 'team-roots-'));
    const configPath = join(folder, 'gateway.yaml');
    writeFileSync(
      configPath,
      [
        'providers:',
        `  zhipu: { type: openai-compatible, base_url: ${zhipu.url}${ZHIPU_ROOT}, models: ["glm-*"], api_keys: [env:ZHIPU_API_KEY] }`,
      ].join('\n'),
    );
    stack = await startStack({
      relayEnv: { GATEWAY_CONFIG: configPath },
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        GATEWAY_CONFIG: configPath,
        DATABASE_URL: 'sqlite::memory:',
        ZHIPU_API_KEY: ZHIPU_KEY,
      },
    });
    key = (await createGatewayKey(stack.gateway)).key;
  });

  afterAll(async () => {
    await stack?.close();
    await zhipu?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it.each([['glm-4-plus'], ['zhipu/glm-4-plus']])(
    'should send %s to the base URL itself, with the held key',
    async (model) => {
      const seen = zhipu.requests.length;
      const completion = await teamClient(stack.gatewayUrl, key).chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'glm' }],
      });
      expect(completion.choices[0]?.message.content).toContain('You said: glm');
      const arrived = zhipu.requests.slice(seen);
      expect(arrived.map((request) => request.url)).toEqual([`${ZHIPU_ROOT}/chat/completions`]);
      expect(arrived[0]?.headers.authorization).toBe(`Bearer ${ZHIPU_KEY}`);
    },
  );

  it("should list the provider's models from the base URL's /models", async () => {
    const list = await teamClient(stack.gatewayUrl, key).models.list();
    const ids = list.data.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(GLM_MODELS));
    expect(zhipu.lastRequest(`${ZHIPU_ROOT}/models`)?.headers.authorization).toBe(`Bearer ${ZHIPU_KEY}`);
  });
});
