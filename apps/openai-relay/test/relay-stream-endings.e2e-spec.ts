import { type RunningRelay, startRelay } from './support/relay-app';
import { CLOSE_DELIMITED_SSE_HEAD, RawUpstream, writeRaw } from '@openai-proxy/testing-fakes';

const frame = (text: string): string => `data: {"text":"${text}"}\n\n`;
const ERROR_TAIL = /\n\ndata: \{"error":\{[^\n]*"code":"upstream_connection_reset"[^\n]*\}\}\n\ndata: \[DONE\]\n\n$/;

async function post(url: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5_000) });
  return response.text();
}

describe('RelayService stream endings', () => {
  let upstream: RawUpstream;
  let relay: RunningRelay;
  let script: (path: string) => string;

  beforeAll(async () => {
    upstream = await RawUpstream.start(async (socket, head) => {
      const path = head.split(' ')[1] ?? '/';
      await writeRaw(socket, CLOSE_DELIMITED_SSE_HEAD + script(path));
      socket.end();
    });
    relay = await startRelay({ OPENAI_API_BASE: upstream.url, STREAM_HEARTBEAT_MS: '0' });
  });

  afterAll(async () => {
    await relay.app.close();
    await upstream.close();
  });

  it('should end with an error frame, the unfinished frame dropped, when the upstream closes the connection in the middle of a frame', async () => {
    script = () => `${frame('a')}data: {"te`;
    const text = await post(`${relay.url}/openai/v1/whatever/stream`);
    expect(text.startsWith(`${frame('a')}data: {"error":`)).toBe(true);
    expect(text).toMatch(ERROR_TAIL);
  });

  it('should end a chat completions stream with an error frame when the upstream closes before data: [DONE]', async () => {
    script = () => frame('a') + frame('b');
    const text = await post(`${relay.url}/openai/v1/chat/completions`);
    expect(text.startsWith(frame('a') + frame('b'))).toBe(true);
    expect(text).toMatch(ERROR_TAIL);
  });

  it('should end a chat completions stream cleanly when the upstream closes after data: [DONE]', async () => {
    script = () => `${frame('a')}data: [DONE]\n\n`;
    expect(await post(`${relay.url}/openai/v1/chat/completions?x=1`)).toBe(`${frame('a')}data: [DONE]\n\n`);
    script = () => `${frame('a')}data: [DONE]\r\n\r\n`;
    expect(await post(`${relay.url}/openai/v1/completions`)).toBe(`${frame('a')}data: [DONE]\r\n\r\n`);
  });

  it('should end a Responses stream cleanly after response.completed, however long its data line', async () => {
    const completed = `event: response.completed\ndata: {"type":"response.completed","response":{"output":"${'x'.repeat(200_000)}"}}\n\n`;
    script = () => `event: response.output_text.delta\ndata: {"delta":"x"}\n\n${completed}`;
    const text = await post(`${relay.url}/openai/v1/responses`);
    expect(text.length).toBe(script('').length);
    expect(text.endsWith('}}\n\n')).toBe(true);
  });

  it('should end a Responses stream with an error frame when the upstream closes before its last event', async () => {
    script = () => 'event: response.output_text.delta\ndata: {"delta":"event: response.completed"}\n\n';
    const text = await post(`${relay.url}/openai/v1/responses`);
    expect(text).toMatch(ERROR_TAIL);
  });

  it('should end a stream of an endpoint without a known terminator cleanly when it closes between frames', async () => {
    script = () => frame('a') + frame('b');
    expect(await post(`${relay.url}/openai/v1/threads/runs/x`)).toBe(frame('a') + frame('b'));
  });
});
