import OpenAI from 'openai';
import request from 'supertest';
import { type Stack, startStack } from './support/stack';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-test-session';

describe('claude.ai web bridge through the gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  function client(): OpenAI {
    return new OpenAI({ apiKey: SESSION, baseURL: `${stack.gatewayUrl}/claude/${ORG}/v1`, maxRetries: 0 });
  }

  function appendBodies(): Array<Record<string, unknown>> {
    return stack.claudeWeb.fake.requests
      .filter((arrived) => arrived.url === '/append_message')
      .map((arrived) => JSON.parse(arrived.body.toString()) as Record<string, unknown>);
  }

  it('should answer OpenAI-style in a fresh conversation built from the prompt template, then delete exactly it', async () => {
    stack.claudeWeb.conversations.set('user-own', {
      uuid: 'user-own',
      name: 'OPENAI-PROXY mine',
      summary: '',
      created_at: '',
      updated_at: '',
      chat_messages: [],
    });
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
    const created = stack.claudeWeb.fake.requests.find(
      (arrived) => arrived.method === 'POST' && arrived.url.endsWith('/chat_conversations'),
    );
    expect(JSON.parse(created?.body.toString() ?? '{}').name).toMatch(/^OPENAI-PROXY-\d+$/);
    expect(created?.headers.cookie).toBe(`sessionKey=${SESSION}`);
    const deletes = stack.claudeWeb.fake.requests.filter((arrived) => arrived.method === 'DELETE');
    expect(deletes.map((arrived) => arrived.url)).toEqual([
      `/organizations/${ORG}/chat_conversations/${String(sent?.['conversation_uuid'])}`,
    ]);
    expect([...stack.claudeWeb.conversations.keys()]).toEqual(['user-own']);
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
    stack.claudeWeb.conversations.set('kept', {
      uuid: 'kept',
      name: 'kept',
      summary: '',
      created_at: '',
      updated_at: '',
      chat_messages: [],
    });
    const inConversation = new OpenAI({
      apiKey: SESSION,
      baseURL: `${stack.gatewayUrl}/claude/${ORG}/kept/v1`,
      maxRetries: 0,
    });
    await inConversation.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'one' }] });
    await inConversation.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'two' }] });
    expect(stack.claudeWeb.conversations.get('kept')?.chat_messages).toHaveLength(4);
  });

  it('should answer 401 without a session key and 400 for a last message that is not the user', async () => {
    const missing = await request(stack.gatewayUrl)
      .post(`/claude/${ORG}/v1/chat/completions`)
      .send({ model: 'x', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.status).toBe(401);
    const wrongLast = await request(stack.gatewayUrl)
      .post(`/claude/${ORG}/v1/chat/completions`)
      .set('Authorization', `Bearer ${SESSION}`)
      .send({ model: 'x', messages: [{ role: 'assistant', content: 'x' }] });
    expect(wrongLast.status).toBe(400);
    expect(wrongLast.body.error.message).toContain('Please check if there is user information in the messages');
  });

  it('should list, create, read and delete conversations with the upstream status passed through', async () => {
    const cookie = `sessionKey=${SESSION}`;
    const created = await request(stack.gatewayUrl)
      .post(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie)
      .send({ name: '' });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('OPENAI-PROXY');
    const listed = await request(stack.gatewayUrl)
      .get(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie);
    expect(listed.body.map((conversation: { uuid: string }) => conversation.uuid)).toContain(created.body.uuid);
    const one = await request(stack.gatewayUrl)
      .get(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(one.body.chat_messages).toEqual([]);
    const deleted = await request(stack.gatewayUrl)
      .delete(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(deleted.status).toBe(204);
    const gone = await request(stack.gatewayUrl)
      .get(`/claude/organizations/${ORG}/chat_conversations/${created.body.uuid}`)
      .set('Cookie', cookie);
    expect(gone.status).toBe(404);
    const refused = await request(stack.gatewayUrl)
      .get(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', 'sessionKey=bad');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('We are unable to serve your request');
    const missingName = await request(stack.gatewayUrl)
      .post(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie)
      .send({});
    expect(missingName.status).toBe(400);
    const all = await request(stack.gatewayUrl)
      .delete(`/claude/organizations/${ORG}/chat_conversations`)
      .set('Cookie', cookie);
    expect([all.status, all.body]).toEqual([200, 'success']);
    expect(stack.claudeWeb.conversations.size).toBe(0);
  });

  it('should stream append_message events through for text/event-stream clients and join them for others', async () => {
    const cookie = `sessionKey=${SESSION}`;
    stack.claudeWeb.conversations.set('raw', {
      uuid: 'raw',
      name: 'raw',
      summary: '',
      created_at: '',
      updated_at: '',
      chat_messages: [],
    });
    const body = {
      completion: { prompt: 'hello', timezone: 'Asia/Shanghai', model: 'claude-2.1' },
      organization_uuid: ORG,
      conversation_uuid: 'raw',
      text: 'hello',
      attachments: [],
    };
    const streamed = await request(stack.gatewayUrl)
      .post('/claude/append_message')
      .set('Cookie', cookie)
      .set('Accept', 'text/event-stream')
      .send(body);
    expect(streamed.headers['content-type']).toContain('text/event-stream');
    expect(streamed.text).toContain('data: {"completion":" Hello"');
    expect(streamed.text).toContain('"stop_reason":"stop_sequence"');
    const plain = await request(stack.gatewayUrl)
      .post('/claude/retry_message')
      .set('Cookie', cookie)
      .set('Accept', '*/*')
      .send(body);
    expect(plain.headers['content-type']).toContain('text/plain');
    expect(plain.text).toBe(' Hello from claude.ai. You said: hello');
    const missing = await request(stack.gatewayUrl)
      .post('/claude/append_message')
      .set('Cookie', cookie)
      .send({ ...body, conversation_uuid: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Conversation not found');
  });
});
