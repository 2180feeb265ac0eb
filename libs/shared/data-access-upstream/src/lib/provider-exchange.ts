import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { DrainableStream } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/** What a call ended by the drain cap answers: 503 before the first byte, an error frame after it. */
export function shuttingDown(): GatewayException {
  return new GatewayException(ErrorCode.ShuttingDown, 'Server is shutting down; retry the request');
}

/**
 * One provider call of a bridge, from its start to its last byte: the signal that aborts the upstream request
 * (undici takes an EventEmitter), why it was aborted (the client left, or the drain cap came), and what the
 * drain does to it. Registered with the drain for the whole call, so a call still waiting for the provider's
 * headers or body is answered 503 instead of being cut when the server closes its connections.
 */
export class ProviderExchange extends EventEmitter implements DrainableStream {
  aborted = false;
  /** The drain cap ended the call. */
  shuttingDown = false;
  /** The client's connection closed before the answer was complete. */
  clientLeft = false;
  private endStream: (() => void) | undefined;

  /** Watches the client: when it leaves (or has already left) the upstream call is aborted. */
  constructor(client: ServerResponse) {
    super();
    if (client.destroyed || client.socket === null || client.socket.destroyed) {
      this.leave();
      return;
    }
    client.once('close', () => {
      if (!client.writableFinished) {
        this.leave();
      }
    });
  }

  abort(): void {
    if (!this.aborted) {
      this.aborted = true;
      this.emit('abort');
    }
  }

  /** The drain cap: before the stream started the call is aborted (and answered 503), after it `endStream` runs. */
  terminate(): void {
    this.shuttingDown = true;
    if (this.endStream === undefined) {
      this.abort();
    } else {
      this.endStream();
    }
  }

  /** From the first byte on, the drain ends the stream this way (an error frame) instead. */
  onTerminate(endStream: () => void): void {
    this.endStream = endStream;
  }

  private leave(): void {
    if (!this.shuttingDown) {
      this.clientLeft = true;
    }
    this.abort();
  }
}
