/** What every service answers, checked the same way in each app's e2e test. */
export interface ServiceBasics {
  health: unknown;
  readyStatus: number;
  /** The /readyz body. */
  ready: unknown;
  metrics: string;
  docsTitle: unknown;
  unknownRoute: { status: number; body: unknown };
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.json() };
}

/** Reads /healthz, /readyz, /metrics, /docs/openapi.json and an unknown route of a running service. */
export async function readServiceBasics(baseUrl: string): Promise<ServiceBasics> {
  const health = await getJson(`${baseUrl}/healthz`);
  const ready = await getJson(`${baseUrl}/readyz`);
  const metrics = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const docs = await getJson(`${baseUrl}/docs/openapi.json`);
  const unknownRoute = await getJson(`${baseUrl}/no/such/route`);
  const info = (docs.body as { info?: { title?: unknown } }).info;
  return {
    health: health.body,
    readyStatus: ready.status,
    ready: ready.body,
    metrics,
    docsTitle: info?.title,
    unknownRoute,
  };
}

/** The value of one Prometheus series (name and labels as printed, e.g. `client_aborts_total{upstream="bard"}`). */
export async function metricSample(baseUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Reads a series until it reaches `expected` (bounded: 40 reads 25 ms apart), for counters set just after a close. */
export async function metricSampleReaching(baseUrl: string, series: string, expected: number): Promise<number> {
  let value = await metricSample(baseUrl, series);
  for (let attempt = 0; attempt < 40 && value < expected; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await metricSample(baseUrl, series);
  }
  return value;
}

/** The parts of a service's /docs/openapi.json the route tests read. */
export interface OpenApiDocument {
  info?: { title?: unknown; description?: string };
  paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
}

/** Reads a running service's /docs/openapi.json. */
export async function openApiDocument(baseUrl: string): Promise<OpenApiDocument> {
  const response = await fetch(`${baseUrl}/docs/openapi.json`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as OpenApiDocument;
}

/** What a client waiting on a call got once the service shut down under it: its status and error code. */
export interface DrainedAnswer {
  status: number;
  code: unknown;
}

/**
 * Shuts the service down (`shutDown`, which should end at a short drain cap) while `pending` still waits for its
 * answer, then reads that answer: at the drain cap a waiting call gets 503 `server_shutting_down`.
 */
export async function answerAfterShutdown(
  pending: Promise<Response>,
  shutDown: () => Promise<void>,
): Promise<DrainedAnswer> {
  await shutDown();
  const response = await pending;
  const body = (await response.json()) as { error?: { code?: unknown } };
  return { status: response.status, code: body.error?.code };
}
