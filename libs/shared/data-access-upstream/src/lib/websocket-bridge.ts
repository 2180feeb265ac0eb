import { type RawData, WebSocket } from 'ws';

/** Past this many bytes queued to one side, reading from the other side pauses until they went out. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** The close codes ws reports for a close without a code (1005) and a connection that just dropped (1006). */
const NO_STATUS_RECEIVED = 1005;
const ABNORMAL_CLOSURE = 1006;

/** Ends `to` the way `from` ended: the same code and reason, no code, or (for a dropped connection) a cut. */
function closeLike(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === WebSocket.CLOSED) {
    return;
  }
  if (code === ABNORMAL_CLOSURE) {
    to.terminate();
  } else if (code === NO_STATUS_RECEIVED) {
    to.close();
  } else {
    to.close(code, reason);
  }
}

/** Sends each message of `from` on to `to` in its own frame type; a slow `to` pauses `from` (backpressure). */
function forwardMessages(from: WebSocket, to: WebSocket): void {
  let paused = false;
  const resumeWhenDrained = (): void => {
    if (paused && to.bufferedAmount < HIGH_WATER_BYTES) {
      paused = false;
      from.resume();
    }
  };
  from.on('message', (data: RawData, isBinary: boolean) => {
    to.send(data, { binary: isBinary }, resumeWhenDrained);
    if (!paused && to.bufferedAmount >= HIGH_WATER_BYTES) {
      paused = true;
      from.pause();
    }
  });
}

/**
 * Relays one side to the other: messages as they come (text stays text, binary stays binary), pings and pongs
 * (neither side answers pings itself, so a pong is the far end's), and the close with its code and reason.
 */
function forward(from: WebSocket, to: WebSocket): void {
  forwardMessages(from, to);
  from.on('ping', (data: Buffer) => to.ping(data));
  from.on('pong', (data: Buffer) => to.pong(data));
  from.on('close', (code: number, reason: Buffer) => closeLike(to, code, reason));
  // A failed socket is followed by its 'close' (code 1006), which cuts the other side.
  from.on('error', () => undefined);
}

/** One relayed WebSocket: the client's side and the upstream's, joined frame for frame both ways. */
export class WebSocketBridge {
  /** Resolves once both sides are closed. */
  readonly closed: Promise<void>;

  constructor(
    private readonly client: WebSocket,
    private readonly upstream: WebSocket,
  ) {
    forward(client, upstream);
    forward(upstream, client);
    const closedSide = (side: WebSocket): Promise<void> =>
      side.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((resolve) => side.once('close', resolve));
    this.closed = Promise.all([closedSide(client), closedSide(upstream)]).then(() => undefined);
  }

  /** Closes both sides with `code` (ws cuts a side that does not finish the close handshake in time). */
  close(code: number, reason: string): void {
    for (const side of [this.client, this.upstream]) {
      if (side.readyState === WebSocket.OPEN) {
        side.close(code, reason);
      }
    }
  }
}
