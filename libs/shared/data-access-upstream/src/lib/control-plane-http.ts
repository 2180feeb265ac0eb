import type { AxiosRequestConfig } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { UpstreamSettings } from '@openai-proxy/util-config';
import { bypassesProxy } from './no-proxy';

/**
 * Axios settings for control-plane calls (`@nestjs/axios`): the same timeouts and egress proxy as the data
 * plane, never axios' own proxy-from-environment, never an exception for an HTTP status (callers map it).
 */
const proxyAgents = new Map<string, HttpsProxyAgent<string>>();

/** One keep-alive tunnel agent per proxy URL, shared by every control-plane call. */
function proxyAgent(proxyUrl: string): HttpsProxyAgent<string> {
  let agent = proxyAgents.get(proxyUrl);
  if (agent === undefined) {
    agent = new HttpsProxyAgent(proxyUrl, { keepAlive: true });
    proxyAgents.set(proxyUrl, agent);
  }
  return agent;
}

/** The tunnel agent for a call to `target`: through HTTPS_PROXY unless NO_PROXY lists it (then undefined). */
export function egressProxyAgent(settings: UpstreamSettings, target: URL): HttpsProxyAgent<string> | undefined {
  if (settings.httpsProxy === undefined || bypassesProxy(target, settings.noProxy)) {
    return undefined;
  }
  return proxyAgent(settings.httpsProxy);
}

export function controlPlaneRequestConfig(settings: UpstreamSettings, target: URL): AxiosRequestConfig {
  const agent = egressProxyAgent(settings, target);
  return {
    timeout: settings.headersTimeoutMs,
    proxy: false,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: (data: unknown) => data,
    ...(agent === undefined ? {} : { httpAgent: agent, httpsAgent: agent }),
  };
}
