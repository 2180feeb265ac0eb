import { encodeSseData } from '@openai-proxy/util-sse';
import { type FakeHandler, FakeUpstream, type RecordedRequest } from './fake-upstream';
import { json, sse } from './fake-responses';

const GENERATE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

interface GeminiBody {
  contents?: Array<{ role?: string; parts?: Array<{ text?: string }> }>;
  tools?: Array<{ functionDeclarations?: Array<{ name?: string }> }>;
}

/** An API key in `x-goog-api-key`, or an OAuth access token as `Authorization: Bearer` (not an API key there). */
function keyOk(request: RecordedRequest): boolean {
  return (
    String(request.headers['x-goog-api-key'] ?? '').startsWith('AIza') ||
    String(request.headers.authorization ?? '').startsWith('Bearer ya29.')
  );
}

export function geminiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  details?: readonly Record<string, unknown>[],
): FakeHandler {
  return json(
    status,
    { error: { code: status, message, status: code, ...(details === undefined ? {} : { details }) } },
    headers,
  );
}

/** Gemini's answer to a bad API key: 400 INVALID_ARGUMENT, the reason API_KEY_INVALID in its details. */
export const geminiBadKey = geminiError(
  400,
  'INVALID_ARGUMENT',
  'API key not valid. Please pass a valid API key.',
  {},
  [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ],
);

function lastUserText(body: GeminiBody): string {
  const last = [...(body.contents ?? [])].reverse().find((content) => content.role === 'user');
  return (last?.parts ?? []).map((part) => part.text ?? '').join('');
}

/** The fake's generateContent and streamGenerateContent, exported so a test can restore it after overriding. */
export const fakeGeminiGenerate: FakeHandler = (request, response) => {
  if (!keyOk(request)) {
    return geminiBadKey(request, response);
  }
  const [, model = 'gemini', method] = GENERATE.exec(request.url.split('?')[0] ?? '') ?? [];
  const body = JSON.parse(request.body.toString() || '{}') as GeminiBody;
  const prompt = lastUserText(body);
  const tool = body.tools?.[0]?.functionDeclarations?.[0]?.name;
  const usageMetadata = { promptTokenCount: 8, candidatesTokenCount: 5, totalTokenCount: 13 };
  const words = ['Hello', ' from', ' the fake', ' Gemini.', ` You said: ${prompt}`];
  const call =
    tool !== undefined && /weather/i.test(prompt)
      ? { functionCall: { name: tool, args: { city: 'Paris' } } }
      : undefined;
  if (method === 'streamGenerateContent') {
    const frames =
      call === undefined
        ? words.map((word, index) =>
            encodeSseData({
              candidates: [
                {
                  content: { role: 'model', parts: [{ text: word }] },
                  index: 0,
                  ...(index === words.length - 1 ? { finishReason: 'STOP' } : {}),
                },
              ],
              modelVersion: model,
              ...(index === words.length - 1 ? { usageMetadata } : {}),
            }),
          )
        : [
            encodeSseData({
              candidates: [{ content: { role: 'model', parts: [call] }, finishReason: 'STOP', index: 0 }],
              usageMetadata,
              modelVersion: model,
            }),
          ];
    return sse({ frames, intervalMs: 5 })(request, response);
  }
  return json(200, {
    candidates: [
      {
        content: { role: 'model', parts: call === undefined ? [{ text: words.join('') }] : [call] },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata,
    modelVersion: model,
    responseId: 'resp-fake01',
  })(request, response);
};

/** A fake Gemini API: generateContent, streamGenerateContent?alt=sse, models, and the OpenAI-compatible path. */
export async function startFakeGemini(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  return fake
    .on('POST', GENERATE, fakeGeminiGenerate)
    .on('GET', '/v1beta/models', (request, response) =>
      keyOk(request) || /[?&]key=AIza/.test(request.url)
        ? json(200, { models: [{ name: 'models/gemini-2.5-flash' }, { name: 'models/gemini-2.5-pro' }] })(
            request,
            response,
          )
        : geminiBadKey(request, response),
    )
    .on('POST', '/v1beta/openai/chat/completions', (request, response) =>
      json(200, {
        id: 'chatcmpl-gemini-compat',
        object: 'chat.completion',
        created: 1,
        model: 'gemini-2.5-flash',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'compat', refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      })(request, response),
    );
}
