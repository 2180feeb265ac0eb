import type { FakeWebSocketUpstream, RecordedWebSocket } from './fake-websocket';
import { DEFAULT_WAIT_MS } from './waiters';

/** When and how a fake WebSocket connection drops. */
export interface WebSocketDrop {
  /** Which connection (0 for the first). */
  connection?: number;
  /** Waits until the client sent this many messages. */
  afterReceived?: number;
  /** Then sends these, each handed to the socket before the next, before dropping. */
  send?: readonly string[];
  /** Bound on each wait (for the connection, the messages, the close). */
  timeoutMs?: number;
}

function sendWhole(connection: RecordedWebSocket, message: string): Promise<void> {
  return new Promise((resolve, reject) =>
    connection.socket.send(message, (error) => (error instanceof Error ? reject(error) : resolve())),
  );
}

/**
 * Drops a connection of the fake the way a dying upstream does: once the client sent `afterReceived` messages
 * and the fake sent `send`, the socket is destroyed without a close frame (the client sees 1006). Resolves with
 * the connection once the fake saw it closed (bounded waits).
 */
export async function dropWebSocket(fake: FakeWebSocketUpstream, drop: WebSocketDrop = {}): Promise<RecordedWebSocket> {
  const index = drop.connection ?? 0;
  const timeoutMs = drop.timeoutMs ?? DEFAULT_WAIT_MS;
  const connection = await fake.waitForConnection(index, timeoutMs);
  const received = drop.afterReceived ?? 0;
  await fake.waitFor(
    () => (connection.messages.length >= received ? true : undefined),
    timeoutMs,
    `${received} messages`,
  );
  for (const message of drop.send ?? []) {
    await sendWhole(connection, message);
  }
  connection.socket.terminate();
  await fake.waitForClose(index, timeoutMs);
  return connection;
}
