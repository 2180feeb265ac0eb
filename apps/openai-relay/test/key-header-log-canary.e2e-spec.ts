import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CanaryCall, FakeUpstream, canaryLogReport, captureLog, json } from '@openai-proxy/testing-fakes';
import { type RunningRelay, startRelay } from './support/relay-app';

/** A bare key in no credential shape (no `Bearer`, no `sk-`), as Azure API Management subscription keys are. */
const MOVED_KEY = '5f0c3a9e1b7d4e2a8c6f0b3d9e1a7c4f';
const SENT_KEY = '9d2e7b4c1a8f3e6d0b5c2a9f7e4d1c8b';
const KEY_HEADER = 'ocp-apim-subscription-key';

// A key header the redactor does not know by name (nor by its credential-word pattern): the relay itself must
// make it secret, or the debug access line prints the key it moved there.
describe('openai-relay configured key header canary', () => {
  const log = captureLog();
  let folder: string;
  let upstream: FakeUpstream;
  let relay: RunningRelay;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'relay-key-header-'));
    upstream = (await FakeUpstream.start()).on('GET', '/v1/models', json(200, { object: 'list', data: [] }));
    const config = join(folder, 'gateway.yaml');
    writeFileSync(
      config,
      `providers:\n  apim: { type: openai-compatible, base_url: ${upstream.url}, key_header: ${KEY_HEADER} }\n`,
    );
    relay = await startRelay(
      { OPENAI_API_BASE: 'http://127.0.0.1:9', GATEWAY_CONFIG: config, LOG_LEVEL: 'debug' },
      { logDestination: log.destination },
    );
  });

  afterAll(async () => {
    await relay.app.close();
    await upstream.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function listModels(headers: Record<string, string>): Promise<number> {
    const response = await fetch(`${relay.url}/apim/v1/models`, { headers, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return response.status;
  }

  it('should never log the key when the relay moves it into a key header the redactor does not know', async () => {
    expect(await listModels({ authorization: `Bearer ${MOVED_KEY}` })).toBe(200);
    expect(upstream.lastRequest('/v1/models')?.headers[KEY_HEADER]).toBe(MOVED_KEY);
    expect(await listModels({ [KEY_HEADER]: SENT_KEY })).toBe(200);
    expect(upstream.lastRequest('/v1/models')?.headers[KEY_HEADER]).toBe(SENT_KEY);
    const calls: CanaryCall[] = [['GET', '/apim/v1/models', undefined]];
    expect(canaryLogReport(log.text(), KEY_HEADER, calls, [MOVED_KEY, SENT_KEY])).toEqual({
      headerLogged: true,
      unloggedPaths: [],
      leakedSecrets: [],
    });
  });
});
