import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MetricsService, PLATFORM_SETTINGS, ShutdownService, withEdgeHeaders } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import type { ChatCompletionChunk } from '@openai-proxy/util-openai-schema';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import {
  SSE_RESPONSE_HEADERS,
  SseDecoder,
  type SseEvent,
  type StreamItem,
  type StreamTransformer,
  encodeSseData,
} from '@openai-proxy/util-sse';
import type { RelayTarget } from './relay.types';
import { EventStreamWriter } from './stream-watch';

/** One call to a provider API: the bridge chooses the headers (an allow-list) and the JSON body. */
export interface ProviderCall {
  target: RelayTarget;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A provider's error answer (status, parsed body, Retry-After) as our exception. */
export type ErrorTranslator = (status: number, body: unknown, retryAfter: string | undefined) => GatewayException;

/** Largest provider answer we read whole (non-streamed completions, model lists). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

class CallAbort extends EventEmitter {
  aborted = false;

  abort(): void {
    if (!this.aborted) {
      this.aborted = true;
      this.emit('abort');
    }
  }
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new GatewayException(ErrorCode.UpstreamBadResponse, 'Provider answer is too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Waits until the client can take more bytes, or has gone (then the upstream abort ends the loop). */
function drainedOrClosed(client: ServerResponse): Promise<void> {
  if (clientGone(client)) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      client.off('drain', done);
      client.off('close', done);
      resolve();
    };
    client.once('drain', done);
    client.once('close', done);
  });
}

/** True when the client's connection is already closed (it left while we were still preparing the call). */
function clientGone(client: ServerResponse): boolean {
  return client.destroyed || client.socket === null || client.socket.destroyed;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The shared pipeline of the translating bridges: the I/O to the provider, cancellation when the client
 * leaves, the provider's errors before the first byte as OpenAI errors with their status, SSE decoding,
 * each translated chunk written as soon as its source event arrives, heartbeats, and mid-stream failures as
 * an error frame then `[DONE]`. Adapters stay pure: they only map objects.
 */
@Injectable()
export class ProviderCallService {
  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
  ) {}

  /** A call whose whole answer is JSON; returns the parsed body of a 2xx answer. */
  async json(call: ProviderCall, client: ServerResponse, translateError: ErrorTranslator): Promise<unknown> {
    const abort = this.abortWhenClientLeaves(client);
    const upstream = await this.send(call, abort);
    const text = await this.readAnswer(upstream, call.target.name);
    const body = parseJson(text);
    if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
      throw translateError(upstream.statusCode, body, header(upstream.headers, 'retry-after'));
    }
    if (body === undefined) {
      throw new GatewayException(
        ErrorCode.UpstreamBadResponse,
        `Upstream ${call.target.name} answered with something that is not JSON`,
      );
    }
    return body;
  }

  /**
   * A streamed call: a provider error before the stream starts is thrown (its status kept); after that,
   * every source event is decoded and translated, and its chunks written at once.
   */
  async stream(
    call: ProviderCall,
    client: ServerResponse,
    transformer: StreamTransformer<SseEvent>,
    translateError: ErrorTranslator,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const upstream = await this.open(call, client, translateError);
    client.writeHead(200, withEdgeHeaders(client, { ...SSE_RESPONSE_HEADERS, ...extraHeaders }));
    client.flushHeaders();
    await this.translate(upstream.body, client, transformer, call.target.name);
  }

  /**
   * A streamed call answered as a whole: every event translated, the chunks returned; an error item (or a
   * cut stream) is thrown as it would be before the first byte.
   */
  async collect(
    call: ProviderCall,
    client: ServerResponse,
    transformer: StreamTransformer<SseEvent>,
    translateError: ErrorTranslator,
  ): Promise<ChatCompletionChunk[]> {
    const upstream = await this.open(call, client, translateError);
    const text = await this.readAnswer(upstream, call.target.name);
    const decoder = new SseDecoder();
    const items = [...decoder.push(text), ...decoder.end()].flatMap((event) => transformer.transform(event));
    items.push(...transformer.flush());
    return items.map((item) => {
      if (item.kind === 'error') {
        throw item.error;
      }
      return item.chunk;
    });
  }

  /** A streamed call whose events go to the client untouched (an error before the stream keeps its status). */
  async passThrough(call: ProviderCall, client: ServerResponse, translateError: ErrorTranslator): Promise<void> {
    const upstream = await this.open(call, client, translateError);
    client.writeHead(200, withEdgeHeaders(client, { ...SSE_RESPONSE_HEADERS }));
    client.flushHeaders();
    const writer = new EventStreamWriter(client, this.settings.heartbeatMs, false);
    this.metrics.streamsInFlight.inc();
    const unregister = this.shutdown.registerStream({
      terminate: () => {
        upstream.body.destroy();
        writer.fail(new GatewayException(ErrorCode.ShuttingDown, 'Server is shutting down; retry the request'));
      },
    });
    try {
      for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
        if (!writer.write(chunk)) {
          await drainedOrClosed(client);
        }
      }
      writer.stop();
      client.end();
    } catch (error) {
      if (!client.destroyed && !client.writableEnded) {
        writer.fail(this.failure(error, call.target.name));
      }
    } finally {
      writer.stop();
      unregister();
      this.metrics.streamsInFlight.dec();
    }
  }

  /** Starts a streamed call: a 2xx answer to read, or the provider's error (status kept) thrown. */
  private async open(
    call: ProviderCall,
    client: ServerResponse,
    translateError: ErrorTranslator,
  ): Promise<Dispatcher.ResponseData> {
    const upstream = await this.send(call, this.abortWhenClientLeaves(client));
    if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
      throw translateError(
        upstream.statusCode,
        parseJson(await this.readAnswer(upstream, call.target.name)),
        header(upstream.headers, 'retry-after'),
      );
    }
    return upstream;
  }

  /** Aborts the call when the client leaves, or at once when it already left (during earlier awaits). */
  private abortWhenClientLeaves(client: ServerResponse): CallAbort {
    const abort = new CallAbort();
    if (clientGone(client)) {
      abort.abort();
      return abort;
    }
    client.once('close', () => {
      if (!client.writableFinished) {
        abort.abort();
      }
    });
    return abort;
  }

  /** Reads a whole answer; a reset or an idle stall while reading is classified like a failed call. */
  private async readAnswer(upstream: Dispatcher.ResponseData, name: string): Promise<string> {
    try {
      return await readText(upstream.body);
    } catch (error) {
      throw this.failure(error, name);
    }
  }

  private failure(error: unknown, name: string): GatewayException {
    const exception = classifyUpstreamError(error, name);
    if (exception.code !== ErrorCode.PayloadTooLarge) {
      this.metrics.upstreamErrors.inc({ upstream: name, kind: exception.code });
    }
    return exception;
  }

  private async send(call: ProviderCall, abort: CallAbort): Promise<Dispatcher.ResponseData> {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    try {
      return await call.target.dispatcher.request({
        origin: call.target.origin,
        path: `${call.target.basePath}${call.path}`,
        method: call.method,
        headers: body === undefined ? call.headers : { ...call.headers, 'content-type': 'application/json' },
        body,
        signal: abort,
      });
    } catch (error) {
      throw this.failure(error, call.target.name);
    }
  }

  private translate(
    source: Readable,
    client: ServerResponse,
    transformer: StreamTransformer<SseEvent>,
    name: string,
  ): Promise<void> {
    const writer = new EventStreamWriter(client, this.settings.heartbeatMs, false);
    const decoder = new SseDecoder();
    this.metrics.streamsInFlight.inc();
    let ended = false;
    const write = (items: StreamItem[]): void => {
      for (const item of items) {
        if (ended) {
          return;
        }
        if (item.kind === 'error') {
          ended = true;
          source.destroy();
          writer.fail(item.error);
          return;
        }
        if (!writer.writeText(encodeSseData(item.chunk))) {
          source.pause();
        }
      }
    };
    const unregister = this.shutdown.registerStream({
      terminate: () =>
        write([
          {
            kind: 'error',
            error: new GatewayException(ErrorCode.ShuttingDown, 'Server is shutting down; retry the request'),
          },
        ]),
    });
    return new Promise<void>((resolve) => {
      let settled = false;
      const onDrain = (): void => {
        source.resume();
      };
      const settle = (): void => {
        if (!settled) {
          settled = true;
          writer.stop();
          unregister();
          client.off('drain', onDrain);
          this.metrics.streamsInFlight.dec();
          resolve();
        }
      };
      client.on('drain', onDrain);
      source.on('data', (chunk: Buffer) => {
        for (const event of decoder.push(chunk)) {
          write(transformer.transform(event));
        }
      });
      source.once('end', () => {
        for (const event of decoder.end()) {
          write(transformer.transform(event));
        }
        write(transformer.flush());
        if (!ended) {
          ended = true;
          writer.finish();
        }
        settle();
      });
      source.once('error', (error: unknown) => {
        if (!ended && !client.destroyed) {
          ended = true;
          const failure = classifyUpstreamError(error, name);
          this.metrics.upstreamErrors.inc({ upstream: name, kind: failure.code });
          writer.fail(failure);
        }
        settle();
      });
      source.once('close', settle);
    });
  }
}
