import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionChunk, ProviderUsage } from '@openai-proxy/util-openai-schema';
import type { SseEvent, StreamTransformer } from '@openai-proxy/util-sse';

/** A provider's error answer (status, parsed body, Retry-After) as our exception. */
export type ErrorTranslator = (status: number, body: unknown, retryAfter: string | undefined) => GatewayException;

/** A body that is not JSON (a form, say), sent as given with its content type. */
export interface EncodedBody {
  contentType: string;
  text: string;
}

/** The one HTTP request an operation sends its provider: the adapter chooses the headers (an allow-list). */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path and query below the adapter's base URL, such as `/v1/messages`. */
  path: string;
  headers: Record<string, string>;
  /** A JSON body (sent with `content-type: application/json`). */
  body?: unknown;
  /** A body of another type; takes the place of `body`. */
  encodedBody?: EncodedBody;
}

/** A whole answer read: what the client gets (sent as JSON), and the usage it reports. */
export interface AnswerReading {
  body: unknown;
  usage: ProviderUsage | undefined;
}

/** Why a 2xx answer could not be read; the client gets 502 upstream_bad_response saying which. */
export type AnswerProblem = 'not JSON' | 'of an unexpected shape';

/**
 * A 2xx answer that could not be read: why, and the client's message when the adapter can say more (never
 * the body itself). The pipeline answers 502 and counts it as upstream_bad_response.
 */
export interface UnreadableAnswer {
  problem: AnswerProblem;
  message?: string;
}

/** How a non-streamed 2xx answer is read: its text checked (zod) and translated, or the problem with it. */
export interface WholeAnswer {
  read(text: string): AnswerReading | UnreadableAnswer;
}

/**
 * How the call ended, for an operation's `finish` (and for a ledger): the usage delivered, and whether it failed
 * or was left. A call that completed has no `error` and `clientLeft` false.
 */
export interface CallReport {
  /** The usage the provider reported so far: a stream that failed or was left reports what came before. */
  usage: ProviderUsage | undefined;
  /**
   * The error the call ended on: before the first byte the client's error answer; after it the error frame
   * that ended the stream (a provider error event, a cut frame, a missing end marker, a reset, an idle timeout,
   * the drain cap); anything else thrown as the internal error the client got. When the client left, the
   * failure its abandoned upstream call was cut with (not a fault of the provider), or none.
   */
  error?: GatewayException;
  /** True when the client's connection closed before its answer was complete (a client that left). */
  clientLeft: boolean;
}

interface PreparedCallBase {
  /** Headers of the client's successful answer besides the pipeline's own (such as `x-bridge-note`). */
  responseHeaders?: Record<string, string>;
  /** Runs once the call has ended, whatever its outcome (claude.ai deletes the conversation it made). */
  finish?(report: CallReport): Promise<void>;
}

interface ProviderCallBase extends PreparedCallBase {
  request: UpstreamRequest;
}

/**
 * One prepared call, by how its answer is read and sent:
 * - `whole`: a non-streamed answer, read whole and sent as one JSON body;
 * - `stream`: an event stream, each translated chunk sent as soon as its source event arrives;
 * - `collect`: an event stream answered as one body (an upstream that always streams, for a client that did not
 *   ask for a stream); `complete` builds that body from the translated chunks: JSON, or when `textType` is set
 *   a text sent with that content type (claude.ai's joined answer as `text/plain`);
 * - `relay`: an event stream whose events reach the client untouched; `watch` reads the same events only to
 *   tell a complete stream from a cut one (its chunks are not sent; an error it reports at the end becomes an
 *   error frame instead of a stream that looks complete);
 * - `ready`: no provider request; the operation made the answer itself with control-plane calls through an
 *   injected interface (claude.ai's conversation routes pass claude.ai's status and JSON through), sent with
 *   `status` and `body` as JSON (no body when it is undefined).
 */
export type PreparedCall =
  | (ProviderCallBase & { answer: 'whole'; read: WholeAnswer })
  | (ProviderCallBase & { answer: 'stream'; transformer: StreamTransformer<SseEvent> })
  | (ProviderCallBase & {
      answer: 'collect';
      transformer: StreamTransformer<SseEvent>;
      complete(chunks: ChatCompletionChunk[]): unknown;
      textType?: string;
    })
  | (ProviderCallBase & { answer: 'relay'; watch?: StreamTransformer<SseEvent> })
  | (PreparedCallBase & { answer: 'ready'; status: number; body?: unknown });

/** One client request as an operation sees it. */
export interface CallContext<Credentials, Input> {
  /** The input its reader made of the request body. */
  input: Input;
  /** What the adapter's `credentials` read from the client's headers. */
  credentials: Credentials;
  /** The client's request headers (for the few a provider takes as sent, such as `anthropic-beta`). */
  headers: IncomingHttpHeaders;
  /** The route's path parameters by name (`:org` → `org`). */
  params: Readonly<Record<string, string>>;
  /** The request's path as sent, without its query (a route may refuse the trailing slash its match ignores). */
  pathname: string;
  /** Aborted when the client leaves or the drain cap comes: for control-plane calls made while preparing. */
  signal: AbortSignal;
}

/** How an operation's input comes from the request: no body, or a JSON body checked at entry. */
export type InputReader<Input> =
  | { body: 'none'; input: Input }
  /** `parse` returns the input or throws a GatewayException (400 naming the field). */
  | { body: 'json'; parse(body: unknown): Input };

/** One thing a provider does for a client (chat completions, the models list): its input and its call. */
export interface ProviderOperation<Credentials, Input> {
  readonly input: InputReader<Input>;
  /** Pure planning of the call, or async when the call needs control-plane work first (claude.ai). */
  prepare(context: CallContext<Credentials, Input>): PreparedCall | Promise<PreparedCall>;
}

/**
 * The contract a translating provider implements; the pipeline (ProviderPipeline) runs any adapter: body limit,
 * validation at entry, credentials, the upstream call with cancellation, the drain, metrics, SSE framing,
 * heartbeats, mid-stream errors, 502 for answers of the wrong shape, and the usage report of every call.
 */
export interface ProviderAdapter<Credentials, Operation extends string> {
  /** Upstream name in metrics and errors (`anthropic`); never a URL or a credential. */
  readonly name: string;
  /** The configured base URL (a setting such as `ANTHROPIC_API_BASE`, never taken from a request). */
  readonly baseUrl: string;
  /** The client's credentials from its headers; throws a GatewayException (401) when there are none. */
  credentials(headers: IncomingHttpHeaders): Credentials;
  /** A provider error before the first byte as our exception, its status kept. */
  readonly translateError: ErrorTranslator;
  readonly operations: { readonly [Name in Operation]: ProviderOperation<Credentials, unknown> };
}

/** One route a bridge serves with an adapter: the path (`:name` segments are parameters), and its /docs entry. */
export interface ProviderRoute<Operation extends string> {
  /** DELETE for the claude.ai conversation routes, whose operations make control-plane calls. */
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  operation: Operation;
  /** The route's one-line summary in /docs. */
  summary: string;
  /** Its group in /docs. */
  tag: string;
}
