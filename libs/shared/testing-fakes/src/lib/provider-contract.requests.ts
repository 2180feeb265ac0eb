import type { FakeUpstream, RecordedRequest } from './fake-upstream';
import type { ProviderContractFixture } from './provider-contract.types';

/** What a case asks of the bridge (a dialect's route asks its own body whatever these say). */
export interface ChatOptions {
  stream?: boolean;
  includeUsage?: boolean;
  content?: unknown;
  tools?: unknown[];
}

export function chatBody(fixture: ProviderContractFixture, options: ChatOptions): unknown {
  if ('dialect' in fixture) {
    return fixture.dialect.body();
  }
  return {
    model: fixture.model,
    stream: options.stream === true,
    ...(options.includeUsage === true ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: 'user', content: options.content ?? 'hi' }],
    ...(options.tools === undefined ? {} : { tools: options.tools }),
  };
}

export function chat(fixture: ProviderContractFixture, url: string, options: ChatOptions): Promise<Response> {
  return fetch(`${url}${fixture.chatPath}`, {
    method: 'POST',
    headers: { ...fixture.headers, 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(fixture, options)),
    signal: AbortSignal.timeout(10_000),
  });
}

/** The text of a whole answer: by the fixture's dialect, else the first choice's message. */
export function answerText(fixture: ProviderContractFixture, body: unknown): string {
  if ('dialect' in fixture) {
    return fixture.dialect.text(body);
  }
  return (body as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message?.content ?? '';
}

/** The JSON payloads of an OpenAI event stream's `data:` frames, `[DONE]` left out. */
export function frames(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice(6)) as Record<string, unknown>);
}

/**
 * The frames of a stream read so far that fully arrived: up to its last blank line (a frame still arriving
 * after it would not parse yet).
 */
export function arrivedFrames(text: string): string {
  const end = text.lastIndexOf('\n\n');
  return end === -1 ? '' : text.slice(0, end + 2);
}

export function sseDeltaText(text: string): string {
  return frames(text)
    .map((chunk) => (chunk['choices'] as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta?.content)
    .join('');
}

/** The calls that reached the fake's chat route (other control-plane calls left out), in order. */
export function chatCalls(fixture: ProviderContractFixture, upstream: FakeUpstream): RecordedRequest[] {
  const { method, path } = fixture.chatRoute;
  return upstream.requests.filter((request) => {
    const pathname = request.url.split('?')[0] ?? '';
    return request.method === method && (typeof path === 'string' ? pathname === path : path.test(pathname));
  });
}

/** The body of the last chat call the fake got, as text. */
export function lastChatBody(fixture: ProviderContractFixture, upstream: FakeUpstream): string {
  return chatCalls(fixture, upstream).at(-1)?.body.toString('utf8') ?? '';
}
