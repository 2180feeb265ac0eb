import type { ServerResponse } from 'node:http';
import type { OutgoingHeaders } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { BODY_LENGTH_HEADERS } from './forwarded-request';
import type { WatchedProgress } from './relay-copy';
import type { RelayOutcome, RelayReport, RelayTarget, ShapedCall } from './relay.types';

/** Headers that describe the client's body, not a body the caller rewrote. */
const BODY_LENGTH_NAMES: ReadonlySet<string> = new Set(BODY_LENGTH_HEADERS);

/**
 * The headers a shaped call goes with: as the caller gave them, except that a rewritten body's length is the
 * HTTP client's to set (a `content-length` copied from the client's request no longer describes it).
 */
export function shapedHeaders(call: ShapedCall): OutgoingHeaders {
  if (call.body === 'client' || !namesBodyLength(call.headers)) {
    return call.headers;
  }
  const headers: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(call.headers)) {
    if (!BODY_LENGTH_NAMES.has(name.toLowerCase())) {
      headers[name] = value;
    }
  }
  return headers;
}

/** Whether `headers` has a `content-length` or `transfer-encoding` (in any case); most callers left them out. */
function namesBodyLength(headers: OutgoingHeaders): boolean {
  for (const name of Object.keys(headers)) {
    if (BODY_LENGTH_NAMES.has(name.toLowerCase())) {
      return true;
    }
  }
  return false;
}

/** A shaped relay whose calls source gave no call at all: nothing could be sent upstream. */
export function noCall(target: RelayTarget): GatewayException {
  return new GatewayException(ErrorCode.UpstreamUnavailable, `No upstream call is left for ${target.name}`);
}

function outcomeOf(clientLeft: boolean, status: number | undefined, error: GatewayException | undefined): RelayOutcome {
  if (clientLeft) {
    return 'aborted';
  }
  return error !== undefined || status === undefined || status >= 400 ? 'failed' : 'completed';
}

/**
 * The report of a watched relay once it ended: the status the client got (the thrown error's when nothing was
 * sent yet), when its first body byte went out, and how it ended.
 */
export function relayReport(
  progress: WatchedProgress,
  response: ServerResponse,
  clientLeft: boolean,
  thrown: GatewayException | undefined,
): RelayReport {
  const status = response.headersSent ? response.statusCode : thrown?.status;
  const error = thrown ?? progress.ending;
  return {
    status,
    firstByteMs: progress.firstByteAt === undefined ? undefined : Math.round(progress.firstByteAt - progress.startedAt),
    outcome: outcomeOf(clientLeft, status, error),
    ...(error === undefined ? {} : { error }),
    clientLeft,
  };
}
