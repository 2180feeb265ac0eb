import type { CanaryCall, FakeHandler } from '@openai-proxy/testing-fakes';

/** How long one probe may take, streamed answers included (the stack's failures come within a second). */
const PROBE_TIMEOUT_MS = 10_000;

/** One request of a canary run: what it sends, on top of the canary headers every probe carries. */
export interface CanaryProbe {
  /** The failure it provokes, for the report. */
  failure: string;
  method: 'GET' | 'POST';
  /** Path and query; a query may carry a canary of its own. */
  path: string;
  /** Headers that replace or add to the canary headers (a gateway key instead of the client's key). */
  headers?: Record<string, string>;
  body?: string;
  /** The status the failure gives; the run checks it, so that a probe that failed otherwise shows. */
  status: number;
}

/** What the client got for one probe: its status, every header and the whole body (a stream read to its end). */
export interface CanaryAnswer {
  probe: CanaryProbe;
  status: number;
  headers: string;
  body: string;
}

/** Sends one probe to `baseUrl` with `canaryHeaders` under its own headers, and reads the whole answer. */
export async function sendProbe(
  baseUrl: string,
  canaryHeaders: Readonly<Record<string, string>>,
  probe: CanaryProbe,
): Promise<CanaryAnswer> {
  const response = await fetch(`${baseUrl}${probe.path}`, {
    method: probe.method,
    headers: { 'content-type': 'application/json', ...canaryHeaders, ...probe.headers },
    body: probe.body,
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  const body = await response.text();
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  return { probe, status: response.status, headers, body };
}

/**
 * The probes as canaryLogReport takes them: each path must show in the log, so a silent service shows. A path
 * parameter (`;key=…`) is cut off like the query, as the log shows the path only up to the redacted credential.
 */
export function asCanaryCalls(probes: readonly CanaryProbe[]): CanaryCall[] {
  return probes.map((probe) => [probe.method, probe.path.split(';')[0] ?? probe.path, probe.body]);
}

/** Which of `secrets` appear in `text`. */
export function secretsIn(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => text.includes(secret));
}

/** The secrets each answer showed its client, by failure; empty when none leaked. */
export function leaksInAnswers(answers: readonly CanaryAnswer[], secrets: readonly string[]): Record<string, string[]> {
  const leaks: Record<string, string[]> = {};
  for (const answer of answers) {
    const found = secretsIn(`${answer.headers}\n${answer.body}`, secrets);
    if (found.length > 0) {
      leaks[answer.probe.failure] = found;
    }
  }
  return leaks;
}

/** Every service's `/metrics` text, by service URL. */
export async function metricsOf(urls: readonly string[]): Promise<Record<string, string>> {
  const texts = await Promise.all(
    urls.map(async (url) => {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return [url, await response.text()] as const;
    }),
  );
  return Object.fromEntries(texts);
}

/**
 * A fake handler that picks its behaviour by a marker in the request body (the prompt names the failure), so
 * one upstream route can fail each probe its own way; `fallback` serves a body with no marker.
 */
export function byMarker(behaviours: Readonly<Record<string, FakeHandler>>, fallback: FakeHandler): FakeHandler {
  return (request, response) => {
    const text = request.body.toString('utf8');
    const marker = Object.keys(behaviours).find((candidate) => text.includes(candidate));
    const handler = marker === undefined ? fallback : behaviours[marker];
    return (handler ?? fallback)(request, response);
  };
}
