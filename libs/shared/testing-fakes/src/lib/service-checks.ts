/** What every service answers, checked the same way in each app's e2e test. */
export interface ServiceBasics {
  health: unknown;
  readyStatus: number;
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
  return { health: health.body, readyStatus: ready.status, metrics, docsTitle: info?.title, unknownRoute };
}
