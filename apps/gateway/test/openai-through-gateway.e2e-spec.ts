import { createHash, randomBytes } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { fakeChatCompletions, json, openAiError, sse } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

describe('OpenAI through the gateway (official SDK)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer a chat completion exactly as the upstream did', async () => {
    const completion = await stack.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    const arrived = stack.openai.lastRequest('/v1/chat/completions');
    expect(arrived?.method).toBe('POST');
    expect(arrived?.headers.authorization).toBe('Bearer sk-test-0123456789');
    expect(JSON.parse(arrived?.body.toString() ?? '{}')).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(arrived?.headers['x-forwarded-for']).toContain('127.0.0.1');
    expect(arrived?.headers['x-request-id']).toMatch(/.+/);
  });

  it('should stream chat chunks through both hops', async () => {
    const stream = await stack.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: '流式 🚀' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finishReasons: Array<string | null> = [];
    let usageTotal: number | undefined;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finishReasons.push(chunk.choices[0]?.finish_reason ?? null);
      usageTotal = chunk.usage?.total_tokens ?? usageTotal;
    }
    expect(pieces.join('')).toBe('Hello from the fake OpenAI upstream. You said: 流式 🚀');
    expect(finishReasons).toContain('stop');
    expect(usageTotal).toBe(16);
  });

  it('should list models', async () => {
    const models = await stack.client().models.list();
    expect(models.data.map((model) => model.id)).toContain('gpt-4o-mini');
  });

  it('should create embeddings', async () => {
    const result = await stack.client().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(8);
  });

  it('should relay a multipart upload byte for byte', async () => {
    const content = randomBytes(3 * 1024 * 1024);
    const file = await stack
      .client()
      .files.create({ file: await toFile(content, 'train.jsonl'), purpose: 'fine-tune' });
    const echoed = file as unknown as { sha256: string; bytes: number; filename: string };
    expect(echoed.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(echoed.bytes).toBe(content.length);
    expect(echoed.filename).toBe('train.jsonl');
  });

  it('should pass an upstream 401 through with its status and message', async () => {
    const error = await stack
      .client('not-a-key')
      .models.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).message).toContain('Incorrect API key');
  });

  it('should pass an upstream 429 through with Retry-After', async () => {
    stack.openai.on('GET', '/v1/models', openAiError(429, 'Slow down', 'rate_limit_exceeded', { 'retry-after': '7' }));
    try {
      const error = await stack
        .client()
        .models.list()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    } finally {
      stack.openai.on('GET', '/v1/models', json(200, { object: 'list', data: [] }));
    }
  });

  it('should not let a stream that was cut after 3 chunks look like a success', async () => {
    const chunk = (content: string): string =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    stack.openai.on(
      'POST',
      '/v1/chat/completions',
      sse({ frames: [chunk('a'), chunk('b'), chunk('c'), chunk('d')], resetAfter: 3 }),
    );
    const received: string[] = [];
    const outcome = await (async () => {
      const stream = await stack
        .client()
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
      for await (const part of stream) {
        received.push(part.choices[0]?.delta.content ?? '');
      }
      return 'completed';
    })().catch((error: unknown) => error);
    expect(received).toEqual(['a', 'b', 'c']);
    expect(outcome).toBeInstanceOf(Error);
  });

  it('should close the upstream socket within a second when the client aborts mid-stream', async () => {
    const chunk = `data: ${JSON.stringify({ id: 'c2', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] })}\n\n`;
    stack.openai.on('POST', '/v1/chat/completions', sse({ frames: [chunk, chunk, chunk, chunk], stallAfter: 2 }));
    const controller = new AbortController();
    const stream = await stack
      .client()
      .chat.completions.create(
        { model: 'abort-test', messages: [{ role: 'user', content: 'x' }], stream: true },
        { signal: controller.signal },
      );
    let seen = 0;
    let abortedAt = Infinity;
    const consumed = (async () => {
      for await (const part of stream) {
        seen += part.choices.length;
        if (seen === 2) {
          abortedAt = Date.now();
          controller.abort();
        }
      }
    })().catch(() => undefined);
    const arrived = await stack.openai.waitForRequest((request) => request.body.toString().includes('abort-test'));
    const closedAt = await stack.openai.waitForClose(arrived, 2_000);
    await consumed;
    expect(seen).toBe(2);
    expect(arrived.closedEarly).toBe(true);
    expect(closedAt - abortedAt).toBeLessThan(1_000);
  });

  // curl -d sends a form type; a JSON type with a charset is sent on as plain application/json too.
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8'])(
    'should read a /v1 body as JSON under Content-Type %s and send it on as application/json',
    async (contentType) => {
      // The tests above leave the fake's chat route stalling or failing: the standard answer again.
      stack.openai.on('POST', '/v1/chat/completions', fakeChatCompletions);
      const answer = await fetch(`${stack.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-test-0123456789', 'content-type': contentType },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'typed' }] }),
      });
      expect(answer.status).toBe(200);
      await answer.text();
      const arrived = stack.openai.lastRequest('/v1/chat/completions');
      expect(arrived?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(arrived?.body.toString('utf8') ?? '{}')).toMatchObject({ model: 'gpt-4o-mini' });
    },
  );

  // GATEWAY_KEYS=off still routes /v1 by model, with the client's own key: it reads the model first.
  it.each([
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, 400, 'model is required'],
    ['/v1/chat/completions', { model: 7, messages: [{ role: 'user', content: 'hi' }] }, 400, 'model must be a string'],
    ['/v1/embeddings', { input: 'hi' }, 400, 'model is required'],
    [
      '/v1/chat/completions',
      { model: 'no-such-model', messages: [] },
      404,
      'The model no-such-model does not exist on this gateway',
    ],
  ])(
    'should answer POST %s with %j as %i naming model, upstream untouched, with GATEWAY_KEYS=off',
    async (path, body, status, message) => {
      const before = stack.openai.requests.length;
      const answer = await fetch(`${stack.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-test-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(status);
      await expect(answer.json()).resolves.toEqual({
        error: {
          message,
          type: 'invalid_request_error',
          param: 'model',
          code: status === 400 ? 'invalid_request' : 'model_not_found',
        },
      });
      expect(stack.openai.requests).toHaveLength(before);
    },
  );
});
