import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { bardCookies } from './bard-credentials';
import { bardInput } from './bard-input.schema';
import type { BardCookies, BardSession } from './bard-session.types';
import { STREAM_GENERATE_PATH, bardAdapter, bardError } from './bard.adapter';
import type { BardContext } from './bard.transform';

const COOKIES: BardCookies = { psid: 'g.a000-unit', psidts: 'sidts-unit' };
const ANSWER = `)]}'\n\n${JSON.stringify([['wrb.fr', null, JSON.stringify([null, ['c_1', 'r_1'], null, null, [['rc_1', ['Hi there'], []]]])]])}\n`;

/** A session in memory that records what the adapter asked of it. */
class MemorySession implements BardSession {
  readonly forgotten: BardCookies[] = [];
  readonly kept = new Map<string, BardContext>();

  tokens(): Promise<{ at: string; bl: string }> {
    return Promise.resolve({ at: 'AT=', bl: 'build 1' });
  }

  forgetTokens(cookies: BardCookies): void {
    this.forgotten.push(cookies);
  }

  conversation(_cookies: BardCookies, conversationId: string): BardContext | undefined {
    return this.kept.get(conversationId);
  }

  remember(_cookies: BardCookies, conversationId: string, context: BardContext): void {
    this.kept.set(conversationId, context);
  }
}

async function prepareAsk(session: BardSession, prompt: string, conversationId?: string) {
  const route = { pathname: '/google/bard' };
  const prepared = await bardAdapter('https://bard.test', session).operations.ask.prepare({
    ...route,
    input: { prompt, conversationId },
    credentials: COOKIES,
    headers: {},
    params: {},
    signal: new AbortController().signal,
  });
  if (prepared.answer !== 'whole') {
    throw new Error(`expected a whole answer, got ${prepared.answer}`);
  }
  return prepared;
}

describe(bardAdapter.name, () => {
  it('should post the StreamGenerate form with the cookies, the build label and the kept conversation', async () => {
    const session = new MemorySession();
    session.kept.set('chat-1', { c: 'c_0', r: 'r_0', rc: 'rc_0' });
    const { request } = await prepareAsk(session, 'hello', 'chat-1');
    expect(request.method).toBe('POST');
    expect(request.path).toMatch(new RegExp(`^${STREAM_GENERATE_PATH}\\?bl=build%201&_reqid=\\d+&rt=c$`));
    expect(request.headers['cookie']).toBe('__Secure-1PSID=g.a000-unit; __Secure-1PSIDTS=sidts-unit');
    const form = new URLSearchParams(request.encodedBody?.text);
    expect(request.encodedBody?.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(form.get('at')).toBe('AT=');
    expect(JSON.parse(JSON.parse(form.get('f.req') ?? '')[1] as string)).toEqual([
      ['hello'],
      null,
      ['c_0', 'r_0', 'rc_0'],
    ]);
  });

  it('should answer the first draft as a bare string and keep the conversation when it has an id', async () => {
    const session = new MemorySession();
    const prepared = await prepareAsk(session, 'hello', 'chat-2');
    expect(prepared.read.read(ANSWER)).toEqual({ body: 'Hi there', usage: undefined });
    expect(session.kept.get('chat-2')).toEqual({ c: 'c_1', r: 'r_1', rc: 'rc_1' });
  });

  it('should forget the cached tokens when the call ends in invalid_api_key, and only then', async () => {
    const session = new MemorySession();
    const prepared = await prepareAsk(session, 'hello');
    await prepared.finish?.({ usage: undefined, error: bardError(429, undefined, undefined), clientLeft: false });
    expect(session.forgotten).toEqual([]);
    await prepared.finish?.({ usage: undefined, error: bardError(403, undefined, undefined), clientLeft: false });
    expect(session.forgotten).toEqual([COOKIES]);
  });
});

describe(bardError.name, () => {
  it.each([
    [401, ErrorCode.InvalidApiKey],
    [403, ErrorCode.InvalidApiKey],
    [429, ErrorCode.RateLimited],
    [500, ErrorCode.UpstreamBadResponse],
  ])('should translate %i into %s', (status, code) => {
    expect(bardError(status, undefined, undefined).code).toBe(code);
  });

  it("should pass a 429's Retry-After on when Bard sends one", () => {
    expect(bardError(429, undefined, '7').headers).toEqual({ 'retry-after': '7' });
  });
});

describe(bardInput.body, () => {
  const parse = (body: unknown): unknown => (bardInput.body === 'json' ? bardInput.parse(body) : undefined);

  it('should read the prompt and a conversationId, and drop a conversationId that is not a non-empty string', () => {
    expect(parse({ prompt: 'p', conversationId: 'c' })).toEqual({ prompt: 'p', conversationId: 'c' });
    expect(parse({ prompt: 'p', conversationId: 7 })).toEqual({ prompt: 'p', conversationId: undefined });
    expect(parse({ prompt: 'p', conversationId: '' })).toEqual({ prompt: 'p', conversationId: undefined });
  });

  it.each([[{}], [{ prompt: '' }], [{ prompt: 3 }], [[]]])('should refuse %j with a 400 naming prompt', (body) => {
    expect(() => parse(body)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidRequest, param: 'prompt' }));
  });
});

describe(bardCookies.name, () => {
  it('should name the missing cookie and never a value when one is missing', () => {
    const read = (): unknown => bardCookies({ cookie: '__Secure-1PSID=g.a000secret' });
    expect(read).toThrow(GatewayException);
    expect(read).toThrow(/Missing Bard cookie\(s\): __Secure-1PSIDTS \(send/);
    expect(read).not.toThrow(/secret/);
  });
});
