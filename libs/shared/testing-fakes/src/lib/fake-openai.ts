import { createHash } from 'node:crypto';
import { SSE_DONE_FRAME, encodeSseData } from '@openai-proxy/util-sse';
import { type FakeHandler, FakeUpstream, type RecordedRequest } from './fake-upstream';
import { json, openAiError, sse } from './fake-responses';

/** Fixed timestamp so answers are reproducible. */
const CREATED = 1_700_000_000;
export const FAKE_OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'whisper-1'];

interface ChatRequestBody {
  model?: unknown;
  messages?: Array<{ role?: unknown; content?: unknown }>;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

function parseJson<T>(request: RecordedRequest): T | undefined {
  try {
    return JSON.parse(request.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

function lastUserText(body: ChatRequestBody): string {
  const user = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

/** The fake's answer, word by word: deterministic, mentions what it was asked. */
export function fakeAnswerWords(prompt: string): string[] {
  return ['Hello', ' from', ' the', ' fake', ' OpenAI', ' upstream.', ` You said: ${prompt}`];
}

function authorized(request: RecordedRequest): boolean {
  return /^Bearer sk-/.test(String(request.headers.authorization ?? ''));
}

function requireKey(handler: FakeHandler): FakeHandler {
  return (request, response) =>
    authorized(request)
      ? handler(request, response)
      : openAiError(401, 'Incorrect API key provided.', 'invalid_request_error')(request, response);
}

/** The fake's chat completions route (streamed and not), exported so a test can restore it after overriding. */
export const fakeChatCompletions: FakeHandler = (request, response) => {
  const body = parseJson<ChatRequestBody>(request);
  if (body === undefined || !Array.isArray(body.messages)) {
    return openAiError(400, "'messages' is a required property", 'invalid_request_error')(request, response);
  }
  const model = typeof body.model === 'string' ? body.model : 'gpt-4o-mini';
  const words = fakeAnswerWords(lastUserText(body));
  const id = 'chatcmpl-fake0001';
  const usage = { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length };
  if (body.stream !== true) {
    return json(200, {
      id,
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: words.join(''), refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
    })(request, response);
  }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): string =>
    encodeSseData({
      id,
      object: 'chat.completion.chunk',
      created: CREATED,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  const frames = [
    chunk({ role: 'assistant', content: '' }, null),
    ...words.map((word) => chunk({ content: word }, null)),
    chunk({}, 'stop'),
    ...(body.stream_options?.include_usage === true
      ? [encodeSseData({ id, object: 'chat.completion.chunk', created: CREATED, model, choices: [], usage })]
      : []),
    SSE_DONE_FRAME,
  ];
  return sse({ frames, intervalMs: 5 })(request, response);
};

const embeddings: FakeHandler = (request, response) => {
  const body = parseJson<{ input?: unknown; model?: unknown; encoding_format?: unknown }>(request);
  const inputs = Array.isArray(body?.input)
    ? body.input.map((item) => JSON.stringify(item))
    : [JSON.stringify(body?.input ?? '')];
  const data = inputs.map((input, index) => {
    const digest = createHash('sha256').update(input).digest();
    const vector = [...digest.subarray(0, 8)].map((byte) => byte / 256);
    const embedding =
      body?.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  return json(200, {
    object: 'list',
    data,
    model: typeof body?.model === 'string' ? body.model : 'text-embedding-3-small',
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  })(request, response);
};

function readFormText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Parses the multipart body as a browser would and reports the uploaded file's size and sha256. */
const files: FakeHandler = async (request, response) => {
  const form = await new Request('http://fake.invalid/', {
    method: 'POST',
    headers: { 'content-type': String(request.headers['content-type'] ?? '') },
    body: request.body,
  }).formData();
  const file = form.get('file');
  if (file === null || typeof file === 'string') {
    return openAiError(400, 'file is required', 'invalid_request_error')(request, response);
  }
  const bytes = Buffer.from(await file.arrayBuffer());
  return json(200, {
    id: 'file-fake0001',
    object: 'file',
    bytes: bytes.length,
    created_at: CREATED,
    filename: file.name,
    purpose: readFormText(form.get('purpose')),
    status: 'processed',
    sha256: createHash('sha256').update(bytes).digest('hex'),
  })(request, response);
};

const models: FakeHandler = json(200, {
  object: 'list',
  data: FAKE_OPENAI_MODELS.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' })),
});

/** Usage in cents for a chunk: one cent per day of the chunk, so sums are easy to check. */
function usageForQuery(url: string): number {
  const query = new URL(url, 'http://fake.invalid').searchParams;
  const start = Date.parse(query.get('start_date') ?? '');
  const end = Date.parse(query.get('end_date') ?? '');
  return Number.isFinite(start) && Number.isFinite(end) ? (end - start) / 86_400_000 : 0;
}

/** A fake api.openai.com: chat (streamed and not), models, embeddings, files and the legacy dashboard. */
export async function startFakeOpenAi(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  return fake
    .on('POST', '/v1/chat/completions', requireKey(fakeChatCompletions))
    .on('GET', '/v1/models', requireKey(models))
    .on('POST', '/v1/embeddings', requireKey(embeddings))
    .on('POST', '/v1/files', requireKey(files))
    .on(
      'GET',
      '/v1/dashboard/billing/subscription',
      requireKey(json(200, { object: 'billing_subscription', system_hard_limit_usd: 120 })),
    )
    .on(
      'GET',
      '/v1/dashboard/billing/usage',
      requireKey((request, response) =>
        json(200, { object: 'list', daily_costs: [], total_usage: usageForQuery(request.url) })(request, response),
      ),
    )
    .on('GET', '/dashboard/billing/credit_grants', (request, response) =>
      String(request.headers.authorization ?? '').startsWith('Bearer sess-')
        ? json(200, {
            object: 'credit_summary',
            total_granted: 18,
            total_used: 0.178104,
            total_available: 17.821896,
            grants: {
              object: 'list',
              data: [
                {
                  object: 'credit_grant',
                  id: 'grant-fake',
                  grant_amount: 18,
                  used_amount: 0.178104,
                  effective_at: 1677628800,
                  expires_at: 1688169600,
                },
              ],
            },
          })(request, response)
        : openAiError(
            401,
            'Your request to GET /dashboard/billing/credit_grants must be made with a session key.',
            'invalid_request_error',
          )(request, response),
    );
}
