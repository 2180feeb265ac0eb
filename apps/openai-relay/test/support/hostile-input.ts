// Hostile-input requests written by hand on raw sockets, shared by the relay tests and the gateway tests (smuggling,
// upstream-host choice), and what the rules allow each of them to lead to.
import { connect } from 'node:net';
import type { FakeUpstream, RecordedRequest } from '@openai-proxy/testing-fakes';

/** Longest a raw exchange waits for the server to close the connection. */
const RAW_WAIT_MS = 3_000;

/** What one raw connection got back. */
export interface RawAnswers {
  /** Every byte the server sent, as latin1 text. */
  text: string;
  /** The status of each answer on the connection, in order. */
  statuses: number[];
  /** True when the server closed the connection; false when the wait ran out first. */
  closed: boolean;
}

/** The status codes of every answer head in `text`, in order. */
function answerStatuses(text: string): number[] {
  return [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

/**
 * Writes `bytes` exactly as given on one new connection to `url` (no client normalises or frames them) and
 * resolves with what came back once the server closed it (each attempt ends on `Connection: close` or on a
 * parse error, which closes), or after a bounded wait.
 */
export function sendRawBytes(url: string, bytes: string, waitMs = RAW_WAIT_MS): Promise<RawAnswers> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, statuses: answerStatuses(text), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.once('close', () => finish(true));
    socket.write(bytes, 'latin1');
  });
}

/** The one answer on a raw connection, read apart: status, headers (names lower-cased) and body. */
export interface RawAnswer {
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
}

/** The first answer in `text` (what `sendRawBytes` got), its head read apart from its body. */
export function firstRawAnswer(text: string): RawAnswer {
  const headEnd = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, headEnd === -1 ? text.length : headEnd).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1];
  return {
    status: status === undefined ? undefined : Number(status),
    headers,
    body: headEnd === -1 ? '' : text.slice(headEnd + 4),
  };
}

/** What a request the HTTP parser refused gets: an OpenAI error envelope, never the bytes it was sent. */
export const MALFORMED_REQUEST_ERROR = {
  error: { message: 'Malformed HTTP request', type: 'invalid_request_error', param: null, code: null },
};

/**
 * Expects `text` to be the one answer to a request the HTTP parser refused: `status` with the OpenAI error
 * envelope as JSON, the connection closed, and nothing of the request (`sent`) echoed.
 */
export function expectMalformedRequestAnswer(text: string, sent: string, status = 400): void {
  const answer = firstRawAnswer(text);
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(answer.headers.connection).toBe('close');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(JSON.parse(answer.body)).toMatchObject({
    error: { type: 'invalid_request_error', param: null, code: null },
  });
  // Content-Length and Connection are lines the answer has of its own; every other line of the request must not come back.
  const echoable = sent
    .split(/\r?\n|\r/)
    .filter((line) => line.length > 6 && !/^(content-length|connection)\b/i.test(line));
  for (const line of echoable) {
    expect(text).not.toContain(line);
  }
}

/** Where a smuggling attempt is sent: the path it claims, and the path its hidden second request asks for. */
export interface SmugglingTarget {
  path: string;
  smuggledPath: string;
}

/** A request whose framing two HTTP parsers could read differently, so that a second request hides in it. */
export interface SmugglingAttempt {
  name: string;
  bytes(target: SmugglingTarget): string;
}

/** The request hidden in an attempt: complete and well formed on its own. */
export function hiddenRequest(smuggledPath: string): string {
  return `GET ${smuggledPath} HTTP/1.1\r\nHost: x\r\n\r\n`;
}

/** A chunked body of one chunk holding `data`, then the last chunk. */
function oneChunk(data: string): string {
  return `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;
}

/** The head of a POST to `path` with these header lines, ended by the blank line. */
function postHead(path: string, headerLines: readonly string[], lineEnd = '\r\n'): string {
  return [`POST ${path} HTTP/1.1`, 'Host: x', ...headerLines, '', ''].join(lineEnd);
}

/**
 * Framings an HTTP/1.1 server must refuse (RFC 9112 §6.3, §2.2): a front end that picked one reading and a
 * back end that picked the other would see the hidden request as a second one. Node's parser answers each 400.
 */
export const REFUSED_FRAMINGS: readonly SmugglingAttempt[] = [
  {
    name: 'Content-Length and Transfer-Encoding: chunked together (CL.TE)',
    bytes: ({ path, smuggledPath }) => {
      const body = `0\r\n\r\n${hiddenRequest(smuggledPath)}`;
      return postHead(path, [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']) + body;
    },
  },
  {
    name: 'Transfer-Encoding: chunked then a short Content-Length (TE.CL)',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding: chunked', 'Content-Length: 4']) + oneChunk(hiddenRequest(smuggledPath)),
  },
  {
    name: 'two equal Content-Length headers',
    bytes: ({ path, smuggledPath }) => {
      const body = hiddenRequest(smuggledPath);
      return postHead(path, [`Content-Length: ${body.length}`, `Content-Length: ${body.length}`]) + body;
    },
  },
  {
    name: 'two different Content-Length headers',
    bytes: ({ path, smuggledPath }) => {
      const body = hiddenRequest(smuggledPath);
      return postHead(path, ['Content-Length: 0', `Content-Length: ${body.length}`]) + body;
    },
  },
  {
    name: 'a Content-Length list ("n, n")',
    bytes: ({ path, smuggledPath }) => {
      const body = hiddenRequest(smuggledPath);
      return postHead(path, [`Content-Length: ${body.length}, ${body.length}`]) + body;
    },
  },
  {
    name: 'a Content-Length with a sign ("+n")',
    bytes: ({ path, smuggledPath }) => {
      const body = hiddenRequest(smuggledPath);
      return postHead(path, [`Content-Length: +${body.length}`]) + body;
    },
  },
  {
    name: 'Transfer-Encoding: chunked, identity (chunked not last)',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding: chunked, identity']) + `0\r\n\r\n${hiddenRequest(smuggledPath)}`,
  },
  {
    name: 'two Transfer-Encoding headers (chunked, then identity)',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity']) +
      `0\r\n\r\n${hiddenRequest(smuggledPath)}`,
  },
  {
    name: 'Transfer-Encoding: xchunked',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding: xchunked']) + `0\r\n\r\n${hiddenRequest(smuggledPath)}`,
  },
  {
    name: 'a space before the colon of Transfer-Encoding, next to a Content-Length',
    bytes: ({ path, smuggledPath }) => {
      const body = `0\r\n\r\n${hiddenRequest(smuggledPath)}`;
      return postHead(path, ['Transfer-Encoding : chunked', `Content-Length: ${body.length}`]) + body;
    },
  },
  {
    name: 'Transfer-Encoding folded onto an obs-fold line',
    bytes: ({ path, smuggledPath }) => {
      const body = `0\r\n\r\n${hiddenRequest(smuggledPath)}`;
      return postHead(path, ['Transfer-Encoding:', ' chunked', `Content-Length: ${body.length}`]) + body;
    },
  },
  {
    name: 'Transfer-Encoding behind a vertical tab',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding:\u000bchunked']) + `0\r\n\r\n${hiddenRequest(smuggledPath)}`,
  },
  {
    name: 'bare LF line endings throughout the head',
    bytes: ({ path, smuggledPath }) => postHead(path, ['Content-Length: 0'], '\n') + hiddenRequest(smuggledPath),
  },
  {
    name: 'a bare LF ending the request line only',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Content-Length: 0']).replace('\r\n', '\n') + hiddenRequest(smuggledPath),
  },
  {
    name: 'a bare CR inside the head',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Content-Length: 0']).replace('\r\n', '\r') + hiddenRequest(smuggledPath),
  },
  {
    name: 'a bare LF after a chunk size',
    bytes: ({ path, smuggledPath }) => {
      const hidden = hiddenRequest(smuggledPath);
      return postHead(path, ['Transfer-Encoding: chunked']) + `${hidden.length.toString(16)}\n${hidden}\r\n0\r\n\r\n`;
    },
  },
];

/**
 * Well-framed requests whose body is the text of another request: the hidden request must arrive upstream as
 * body bytes of the one request the client sent, never as a request of its own.
 */
export const BODY_FRAMINGS: readonly SmugglingAttempt[] = [
  {
    name: 'a whole request hidden in a Content-Length body',
    bytes: ({ path, smuggledPath }) => {
      const body = hiddenRequest(smuggledPath);
      return postHead(path, [`Content-Length: ${body.length}`, 'Connection: close']) + body;
    },
  },
  {
    name: 'a whole request hidden in a chunked body, with spaces before "chunked"',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding:   chunked', 'Connection: close']) + oneChunk(hiddenRequest(smuggledPath)),
  },
  {
    name: 'a whole request hidden in a chunked body, "Chunked" capitalised',
    bytes: ({ path, smuggledPath }) =>
      postHead(path, ['Transfer-Encoding: Chunked', 'Connection: close']) + oneChunk(hiddenRequest(smuggledPath)),
  },
];

/** Two well-formed requests pipelined on one connection: both are the client's, and both must arrive. */
export function pipelinedPair(firstPath: string, secondPath: string): string {
  return (
    `GET ${firstPath} HTTP/1.1\r\nHost: x\r\n\r\n` +
    `GET ${secondPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`
  );
}

/** The recorded requests whose path or query names `fragment`: a smuggled request shows up here. */
export function requestsNaming(requests: readonly RecordedRequest[], fragment: string): RecordedRequest[] {
  return requests.filter((request) => request.url.includes(fragment));
}

/**
 * One request for `target` exactly as written (origin, absolute, authority or asterisk form) with these headers
 * (Host `x` unless given) and body, asking the server to close the connection after its answer.
 */
export function rawHttp(
  method: string,
  target: string,
  headers: Readonly<Record<string, string>> = {},
  body = '',
): string {
  const lines = Object.entries({ host: 'x', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join('')}Connection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** Where an upstream-host attempt is sent: a relay's prefix, an ordinary path below it, and the host it aims at. */
export interface HostAttemptTarget {
  prefix: string;
  rest: string;
  evilHost: string;
}

/** A request that tries to choose the upstream host; what the client gets, and what the upstream sees. */
export interface UpstreamHostAttempt {
  name: string;
  bytes(target: HostAttemptTarget): string;
  /** The status the client gets; undefined when the connection is closed without an answer. */
  status: number | undefined;
  /** The path below the configured base path that reaches the configured upstream; undefined when none does. */
  upstreamPath?(target: HostAttemptTarget): string;
}

/** An attempt the relay refuses with `status` (undefined: closes), sending nothing anywhere. */
export function refusedAttempt(
  name: string,
  bytes: UpstreamHostAttempt['bytes'],
  status: number | undefined,
): UpstreamHostAttempt {
  return { name, bytes, status };
}

/** An attempt relayed to the configured upstream only, as `upstreamPath` below its base path (the rest if unsaid). */
export function relayedAttempt(
  name: string,
  bytes: UpstreamHostAttempt['bytes'],
  upstreamPath: NonNullable<UpstreamHostAttempt['upstreamPath']> = ({ rest }) => rest,
): UpstreamHostAttempt {
  return { name, bytes, status: 200, upstreamPath };
}

/**
 * Requests on a relay's prefix that try to send it to another host instead of the configured upstream, or out
 * of the configured base path: absolute-form and authority-form targets, Host and forwarding headers, `//host`
 * and `@host` paths, encoded dot segments and backslashes (plain dot segments: the paths e2e specs).
 */
export const UPSTREAM_HOST_ATTEMPTS: readonly UpstreamHostAttempt[] = [
  refusedAttempt(
    'an absolute-form target naming another host',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `http://${evilHost}${prefix}${rest}`),
    404,
  ),
  refusedAttempt(
    'an absolute-form target with user info',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `http://user:pass@${evilHost}${prefix}${rest}`),
    404,
  ),
  refusedAttempt(
    'an absolute-form target with the upstream path only',
    ({ rest, evilHost }) => rawHttp('GET', `http://${evilHost}${rest}`),
    404,
  ),
  refusedAttempt(
    'a target that starts with //host',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `//${evilHost}${prefix}${rest}`),
    404,
  ),
  refusedAttempt(
    'a CONNECT to another host',
    ({ evilHost }) => rawHttp('CONNECT', evilHost, { host: evilHost }),
    undefined,
  ),
  relayedAttempt('Host naming another host', ({ prefix, rest, evilHost }) =>
    rawHttp('GET', `${prefix}${rest}`, { host: evilHost }),
  ),
  relayedAttempt('X-Forwarded-Host, X-Forwarded-Port and Forwarded naming another host', ({ prefix, rest, evilHost }) =>
    rawHttp('GET', `${prefix}${rest}`, {
      'x-forwarded-host': evilHost,
      'x-forwarded-port': new URL(`http://${evilHost}`).port,
      'x-forwarded-proto': 'http',
      forwarded: `host=${evilHost};proto=http`,
    }),
  ),
  relayedAttempt('X-Original-URL, X-Rewrite-URL and X-Host naming another host', ({ prefix, rest, evilHost }) =>
    rawHttp('GET', `${prefix}${rest}`, {
      'x-original-url': `http://${evilHost}${rest}`,
      'x-rewrite-url': `//${evilHost}${rest}`,
      'x-host': evilHost,
      'x-http-host-override': evilHost,
    }),
  ),
  relayedAttempt(
    'a //host path',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}//${evilHost}${rest}`),
    ({ rest, evilHost }) => `//${evilHost}${rest}`,
  ),
  relayedAttempt(
    'an @host path',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}/@${evilHost}${rest}`),
    ({ rest, evilHost }) => `/@${evilHost}${rest}`,
  ),
  relayedAttempt(
    'a percent-encoded //host path',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}/%2F%2F${evilHost}${rest}`),
    ({ rest, evilHost }) => `/%2F%2F${evilHost}${rest}`,
  ),
  refusedAttempt(
    'a #fragment naming another host',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}${rest}#@${evilHost}`),
    400,
  ),
  refusedAttempt(
    'a #fragment after the query',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}${rest}?limit=1#//${evilHost}`),
    400,
  ),
  refusedAttempt(
    'the prefix followed by @host',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}@${evilHost}${rest}`),
    404,
  ),
  refusedAttempt(
    'percent-encoded backslashes between dot segments',
    ({ prefix }) => rawHttp('GET', `${prefix}/..%5c..%5cadmin`),
    400,
  ),
  refusedAttempt(
    'percent-encoded backslashes before dot segments',
    ({ prefix }) => rawHttp('GET', `${prefix}/v1/%5c..%5c..%5cadmin`),
    400,
  ),
  refusedAttempt(
    'a dot segment encoded in its first half',
    ({ prefix }) => rawHttp('GET', `${prefix}/%2e./admin`),
    400,
  ),
  refusedAttempt(
    'a dot segment encoded in its second half',
    ({ prefix }) => rawHttp('GET', `${prefix}/.%2e/admin`),
    400,
  ),
  refusedAttempt('a dot segment with a parameter ("..;")', ({ prefix }) => rawHttp('GET', `${prefix}/..;/admin`), 400),
  refusedAttempt(
    'backslash dot segments towards another host',
    ({ prefix, rest, evilHost }) => rawHttp('GET', `${prefix}\\..\\${evilHost}${rest}`),
    400,
  ),
];

/** What an upstream-host attempt led to: what the client got, and what each upstream recorded. */
export interface HostAttemptOutcome {
  statuses: number[];
  closed: boolean;
  /** How many requests the other host (a second fake) got. */
  evilRequests: number;
  /** Path and query of each request the configured upstream got. */
  upstreamPaths: string[];
  /** The Host header of each of those requests. */
  upstreamHosts: (string | undefined)[];
}

/** Where an attempt goes in: the edge it is sent to, and the upstreams behind it. */
export interface HostAttemptSetup {
  edgeUrl: string;
  /** The configured upstream, and the base path configured with it (`''` for none). */
  upstream: FakeUpstream;
  basePath: string;
  /** A second fake on another port, standing for the host the attempt aims at. */
  evil: FakeUpstream;
}

/** The target an attempt on `prefix` + `rest` aims at through this setup (its evil host). */
export function hostAttemptTarget(setup: HostAttemptSetup, prefix: string, rest: string): HostAttemptTarget {
  return { prefix, rest, evilHost: new URL(setup.evil.url).host };
}

/** Sends the attempt over a raw socket and reports what the client got and what both upstreams recorded. */
export async function tryUpstreamHost(
  setup: HostAttemptSetup,
  attempt: UpstreamHostAttempt,
  target: HostAttemptTarget,
): Promise<HostAttemptOutcome> {
  const before = setup.upstream.requests.length;
  const evilBefore = setup.evil.requests.length;
  const answers = await sendRawBytes(setup.edgeUrl, attempt.bytes(target));
  const arrived = setup.upstream.requests.slice(before);
  return {
    statuses: answers.statuses,
    closed: answers.closed,
    evilRequests: setup.evil.requests.length - evilBefore,
    upstreamPaths: arrived.map((request) => request.url),
    upstreamHosts: arrived.map((request) => request.headers.host),
  };
}

/** What the rule allows for the attempt: its documented status, nothing at the other host, the base path kept. */
export function allowedHostOutcome(
  setup: HostAttemptSetup,
  attempt: UpstreamHostAttempt,
  target: HostAttemptTarget,
): HostAttemptOutcome {
  const path = attempt.upstreamPath?.(target);
  return {
    statuses: attempt.status === undefined ? [] : [attempt.status],
    closed: true,
    evilRequests: 0,
    upstreamPaths: path === undefined ? [] : [`${setup.basePath}${path}`],
    upstreamHosts: path === undefined ? [] : [new URL(setup.upstream.url).host],
  };
}
