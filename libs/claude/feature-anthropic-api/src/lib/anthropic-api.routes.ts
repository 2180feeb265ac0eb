import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { ProviderPipeline, registerProviderRoutes } from '@openai-proxy/data-access-upstream';
import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import { type AnthropicOperation, anthropicAdapter } from './anthropic.adapter';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';

/** The OpenAI-compatible routes over the Anthropic Messages API. */
export const ANTHROPIC_API_ROUTES: readonly ProviderRoute<AnthropicOperation>[] = [
  {
    method: 'POST',
    path: '/claude/v1/chat/completions',
    operation: 'chat',
    summary: 'OpenAI chat completions over the Anthropic Messages API (key as Bearer or x-api-key).',
    tag: 'claude',
  },
  {
    method: 'GET',
    path: '/claude/v1/models',
    operation: 'models',
    summary: 'Anthropic models as an OpenAI model list.',
    tag: 'claude',
  },
];

/** Declares ANTHROPIC_API_ROUTES on the raw router, served by the provider pipeline with the Anthropic adapter. */
@Injectable()
export class AnthropicApiRoutes implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly pipeline: ProviderPipeline,
    @Inject(ANTHROPIC_API_SETTINGS) private readonly settings: AnthropicApiSettings,
  ) {}

  onModuleInit(): void {
    registerProviderRoutes(this.registry, this.pipeline, anthropicAdapter(this.settings), ANTHROPIC_API_ROUTES);
  }
}
