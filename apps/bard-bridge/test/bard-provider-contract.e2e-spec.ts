import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import {
  type ContractBridge,
  FAKE_BARD_STREAM_GENERATE,
  type ProviderContractFixture,
  describeProviderContract,
  fakeBardStreamGenerate,
  startFakeBard,
  text,
} from '@openai-proxy/testing-fakes';
import { startBardBridge } from './support/bard-bridge-app';

/** The bard-bridge against the fake Bard. */
async function startBridge(upstreamUrl: string): Promise<ContractBridge> {
  const { app, url } = await startBardBridge({ BARD_BASE: upstreamUrl });
  return { url, pipeline: app.get(ProviderPipeline), close: () => app.close() };
}

const BARD_FIXTURE: ProviderContractFixture = {
  startUpstream: startFakeBard,
  startBridge,
  chatPath: '/google/bard',
  headers: { cookie: '__Secure-1PSID=g.a000contract; __Secure-1PSIDTS=sidts-contract' },
  chatRoute: { method: 'POST', path: FAKE_BARD_STREAM_GENERATE },
  defaultChat: fakeBardStreamGenerate(),
  rateLimited: text(429, 'Too many requests', { 'retry-after': '7' }),
  // Bard reports no token counts.
  usage: undefined,
  dialect: {
    body: () => ({ prompt: 'Hello' }),
    text: (answer) => (typeof answer === 'string' ? answer : ''),
    cannotAsk: {
      streaming: 'POST /google/bard answers one whole JSON string; StreamGenerate is read whole',
      tools: 'the route takes a prompt, not messages with tools',
      images: 'the route takes a text prompt only',
    },
  },
};

describeProviderContract('bardAdapter', BARD_FIXTURE);
