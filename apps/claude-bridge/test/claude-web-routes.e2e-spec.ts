import OpenAI from 'openai';
import request from 'supertest';
import { emptyConversation } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-test-session';

describe('claude.ai web routes on the claude-bridge', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  function client(): OpenAI {
    return new OpenAI({ apiKey: SESSION, baseURL: `${bridge.url}/claude/${ORG}/v1`, maxRetries: 0 });
  }

  function appendBodies(): Array<Record<string, unknown>> {
    return bridge.claudeWeb.fake.requests
      .filter((arrived) => arrived.url === '/append_message')
      .map((arrived) => JSON.parse(arrived.body.toString()) as Record<string, unknown>);
  }

  it('should answer OpenAI-style in a fresh conversation built from the prompt template, then delete exactly it', async () => {
    bridge.claudeWeb.conversations.set('user-own', emptyConversation('user-own', 'OPENAI-PROXY mine'));
    const completion = await client().chat.completions.create({
      model: 'gpt-3.5-turbo',
      messages: [
        { role: 'system', content: 'Output JSON' },
        { role: 'user', content: 'Date?' },
        { role: 'assistant', content: 'May 30.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    const prompt =
      'Tips: Date?\nMay 30.\n \nPlease refer to the prompts above for your answer (Return the results of the question):\nHi(Output JSON)';
    expect(completion.choices[0]?.message.content).toBe(` Hello from claude.ai. You said: ${prompt}`);
    expect(completion.model).toBe('claude-2.1');
    expect(completion.id.startsWith('chatcmpl-')).toBe(true);
    expect(completion.created).toBeLessThan(1e11);
    const [sent] = appendBodies().slice(-1);
    expect(sent).toMatchObject({
      organization_uuid: ORG,
      text: prompt,
      attachments: [],
      completion: { prompt, timezone: 'Asia/Shanghai', model: 'claude-2.1' },
    });
    const created = bridge.claudeWeb.fake.requests.find(
      (arrived) => arrived.method === 'POST' && arrived.url.endsWith('/chat_conversations'),
    );
    expect(JSON.parse(created?.body.toString() ?? '{}').name).toMatch(/^OPENAI-PROXY-\d+$/);
    expect(created?.headers.cookie).toBe(`sessionKey=${SESSION}`);
    // The conversation is deleted once the answer has ended: after the client has it, so wait for the call.
    await bridge.claudeWeb.fake.waitForRequest((arrived) => arrived.method === 'DELETE');
    const deletes = bridge.claudeWeb.fake.requests.filter((arrived) => arrived.method === 'DELETE');
    expect(deletes.map((arrived) => arrived.url)).toEqual([
      `/organizations/${ORG}/chat_conversations/${String(sent?.['conversation_uuid'])}`,
    ]);
    expect([...bridge.claudeWeb.conversations.keys()]).toEqual(['user-own']);
  });

  it('should stream each completion delta as a chunk, with the real model and [DONE]', async () => {
    const stream = await client().chat.completions.create({
      model: 'claude-3-opus',
      messages: [{ role: 'user', content: '你好' }],
      stream: true,
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    const models = new Set<string>();
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
      models.add(chunk.model);
    }
    expect(pieces.filter((piece) => piece !== '')).toEqual([' Hello', ' from claude.ai.', ' You said: 你好']);
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
    expect([...models]).toEqual(['claude-3-opus']);
  });

  it('should keep using a given conversation and never delete it', async () => {
    bridge.claudeWeb.conversations.set('kept', emptyConversation('kept'));
    const inConversation = new OpenAI({
      apiKey: SESSION,
      baseURL: `${bridge.url}/claude/${ORG}/kept/v1`,
      maxRetries: 0,
    });
    await inConversation.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'one' }] });
    await inConversation.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'two' }] });
    expect(bridge.claudeWeb.conversations.get('kept')?.chat_messages).toHaveLength(4);
  });

  it('should answer 401 without a session key and 400 for a last message that is not the user', async () => {
    const missing = await request(bridge.url)
      .post(`/claude/${ORG}/v1/chat/completions`)
      .send({ model: 'x', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.status).toBe(401);
    const wrongLast = await request(bridge.url)
      .post(`/claude/${ORG}/v1/chat/completions`)
      .set('Authorization', `Bearer ${SESSION}`)
      .send({ model: 'x', messages: [{ role: 'assistant', content: 'x' }] });
    expect(wrongLast.status).toBe(400);
    expect(wrongLast.body.error.message).toContain('Please check if there is user information in the messages');
  });

  it('should list, create, read and delete conversations with the upstream status passed through', async () => {
    const cookie = `sessionKey=${SESSION}`;
    const created = await request(bridge.url)
      .post(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie)
      .send({ name: '' });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('OPENAI-PROXY');
    const listed = await request(bridge.url)
      .get(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie);
    expect(listed.body.map((conversation: { uuid: string }) => conversation.uuid)).toContain(created.body.uuid);
    const one = await request(bridge.url)
      .get(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(one.body.chat_messages).toEqual([]);
    const deleted = await request(bridge.url)
      .delete(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(deleted.status).toBe(204);
    const gone = await request(bridge.url)
      .get(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(gone.status).toBe(404);
    const refused = await request(bridge.url)
      .get(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', 'sessionKey=bad');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('We are unable to serve your request');
    const missingName = await request(bridge.url)
      .post(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie)
      .send({});
    expect(missingName.status).toBe(400);
    const all = await request(bridge.url)
      .delete(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie);
    expect([all.status, all.body]).toEqual([200, 'success']);
    expect(bridge.claudeWeb.conversations.size).toBe(0);
  });

  it('should stream append_message events through for text/event-stream clients and join them for others', async () => {
    const cookie = `sessionKey=${SESSION}`;
    bridge.claudeWeb.conversations.set('raw', emptyConversation('raw'));
    const body = {
      completion: { prompt: 'hello', timezone: 'Asia/Shanghai', model: 'claude-2.1' },
      organization_uuid: ORG,
      conversation_uuid: 'raw',
      text: 'hello',
      attachments: [],
    };
    const streamed = await request(bridge.url)
      .post('/claude/append_message')
      .set('Cookie', cookie)
      .set('Accept', 'text/event-stream')
      .send(body);
    expect(streamed.headers['content-type']).toContain('text/event-stream');
    expect(streamed.text).toContain('data: {"completion":" Hello"');
    expect(streamed.text).toContain('"stop_reason":"stop_sequence"');
    const plain = await request(bridge.url)
      .post('/claude/retry_message')
      .set('Cookie', cookie)
      .set('Accept', '*/*')
      .send(body);
    expect(plain.headers['content-type']).toContain('text/plain');
    expect(plain.text).toBe(' Hello from claude.ai. You said: hello');
    const missing = await request(bridge.url)
      .post('/claude/append_message')
      .set('Cookie', cookie)
      .send({ ...body, conversation_uuid: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Conversation not found');
  });

  it('should keep the upstream status of a refusal that is not JSON (a Cloudflare page)', async () => {
    bridge.claudeWeb.fake.on('GET', /^\/organizations\/cloudflare\/chat_conversations$/, (_arrived, response) => {
      response.writeHead(403, { 'content-type': 'text/html' }).end('<html>Just a moment...</html>');
    });
    const response = await request(bridge.url)
      .get('/claude/organizations/cloudflare/chat_conversations')
      .set('Cookie', `sessionKey=${SESSION}`);
    expect(response.status).toBe(403);
    expect(response.body.error.type).toBe('permission_error');
  });

  it('should keep the status and Retry-After when claude.ai refuses to create the conversation', async () => {
    bridge.claudeWeb.fake.on('POST', /^\/organizations\/limited\/chat_conversations$/, (_arrived, response) => {
      response
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '42' })
        .end(JSON.stringify({ error: { type: 'rate_limit_error', message: 'Too many conversations' } }));
    });
    const response = await request(bridge.url)
      .post('/claude/limited/v1/chat/completions')
      .set('Authorization', `Bearer ${SESSION}`)
      .send({ model: 'x', messages: [{ role: 'user', content: 'x' }] });
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('42');
    expect(response.body.error.message).toBe('Too many conversations');
  });

  // Regression (review): a client that left while the conversation was being created left the answer running
  // forever and the conversation undeleted.
  it('should not leave a call running or a conversation behind when the client leaves during creation', async () => {
    bridge.claudeWeb.fake.on('POST', /^\/organizations\/slow\/chat_conversations$/, async (arrived, response) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const body = JSON.parse(arrived.body.toString()) as { uuid: string; name: string };
      bridge.claudeWeb.conversations.set(body.uuid, emptyConversation(body.uuid, body.name));
      response
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ uuid: body.uuid, name: body.name }));
    });
    const controller = new AbortController();
    const pending = fetch(`${bridge.url}/claude/slow/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SESSION}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    const created = await bridge.claudeWeb.fake.waitForRequest(
      (arrived) => arrived.method === 'POST' && arrived.url === '/organizations/slow/chat_conversations',
    );
    controller.abort();
    await pending;
    const uuid = (JSON.parse(created.body.toString()) as { uuid: string }).uuid;
    await bridge.claudeWeb.fake.waitForRequest(
      (arrived) => arrived.method === 'DELETE' && arrived.url.endsWith(`/chat_conversations/${uuid}`),
      3_000,
    );
    expect(bridge.claudeWeb.conversations.has(uuid)).toBe(false);
    for (const append of bridge.claudeWeb.fake.requests.filter(
      (arrived) => arrived.url === '/append_message' && arrived.body.toString().includes(uuid),
    )) {
      await bridge.claudeWeb.fake.waitForClose(append, 2_000);
    }
  });

  // Regression: DELETE …/chat_conversations/ (a trailing slash, as an empty conversation id leaves it) was routed
  // to delete-all and deleted every conversation of the organization.
  it('should delete nothing and answer 400 when DELETE has a trailing slash and no conversation id', async () => {
    bridge.claudeWeb.conversations.set('survivor', emptyConversation('survivor'));
    for (const path of ['chat_conversations/', 'chat_conversations/?confirm=1']) {
      const response = await request(bridge.url)
        .delete(`/claude/organizations/trailing/${path}`)
        .set('Cookie', `sessionKey=${SESSION}`);
      expect([response.status, response.body.error?.type]).toEqual([400, 'invalid_request_error']);
      expect(response.body.error.message).toContain('DELETE /claude/organizations/trailing/chat_conversations');
    }
    expect(
      bridge.claudeWeb.fake.requests.filter((arrived) => arrived.url.includes('/organizations/trailing/')),
    ).toEqual([]);
    expect(bridge.claudeWeb.conversations.has('survivor')).toBe(true);
  });
});
