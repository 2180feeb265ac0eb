import { Inject, Injectable } from '@nestjs/common';
import { RelayService, type RelayTarget } from '@openai-proxy/data-access-upstream';
import { openAiApiRoot } from '@openai-proxy/util-config';
import { SERVICES_MANIFEST, backendServices, compatibleProvidersService } from '@openai-proxy/util-services';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/** Headers the edge sets itself and takes from no service. */
const EDGE_RESPONSE_HEADER_PREFIXES = ['access-control-'];

/**
 * Where each built-in provider answers in OpenAI's format, through the service that serves it: OpenAI through the
 * relay, Anthropic and Gemini through their bridges' OpenAI-compatible routes. A configured provider answers at
 * `/<name>/v1` through the relay, or at `/<name>` when its base URL ends in a version (openAiApiRoot).
 */
const OPENAI_FORMAT_PATHS: Readonly<Record<string, string>> = {
  openai: '/openai/v1',
  anthropic: '/claude/v1',
  gemini: '/google/v1',
};

/**
 * Providers whose OpenAI-format endpoint is a translating bridge: chat completions and models only, and their
 * streams can give the prompt's counts early (PROMPT_USAGE_HEADER).
 */
export const BRIDGED_PROVIDERS: ReadonlySet<string> = new Set(['anthropic', 'gemini']);

/** A provider's OpenAI-format endpoint: the service to reach and the path prefix there. */
export interface ProviderEndpoint {
  target: RelayTarget;
  /** `/openai/v1`, `/claude/v1`, `/google/v1`, `/<name>/v1` (or `/<name>`). */
  basePath: string;
}

/** The OpenAI-format endpoint of every provider the team routes can reach (for `/v1/*`). */
@Injectable()
export class ProviderEndpoints {
  private readonly endpoints = new Map<string, ProviderEndpoint>();

  constructor(relay: RelayService, @Inject(TEAM_SETTINGS) settings: TeamSettings) {
    const targetOf = (service: string): RelayTarget => {
      const baseUrl = settings.serviceUrls[service];
      if (baseUrl === undefined) {
        throw new Error(`no URL for the ${service} service`);
      }
      return relay.target({
        name: service,
        baseUrl,
        kind: 'internal',
        dropResponseHeaderPrefixes: EDGE_RESPONSE_HEADER_PREFIXES,
      });
    };
    for (const service of backendServices(SERVICES_MANIFEST)) {
      const target = targetOf(service.name);
      for (const provider of service.providers) {
        const basePath = OPENAI_FORMAT_PATHS[provider];
        if (basePath !== undefined) {
          this.endpoints.set(provider, { target, basePath });
        }
      }
    }
    const relayTarget = targetOf(compatibleProvidersService(SERVICES_MANIFEST).name);
    for (const provider of settings.compatibleProviders) {
      this.endpoints.set(provider.name, {
        target: relayTarget,
        basePath: `/${provider.name}${openAiApiRoot(provider)}`,
      });
    }
  }

  /** The endpoint of `provider`, or undefined when no service serves it. */
  of(provider: string): ProviderEndpoint | undefined {
    return this.endpoints.get(provider);
  }

  providers(): readonly string[] {
    return [...this.endpoints.keys()];
  }
}
