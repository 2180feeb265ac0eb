import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { ProviderPipeline, registerProviderRoutes } from '@openai-proxy/data-access-upstream';
import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import { type GeminiOperation, geminiAdapter } from './gemini.adapter';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';

/** The OpenAI-compatible routes over the Gemini API. */
export const GEMINI_API_ROUTES: readonly ProviderRoute<GeminiOperation>[] = [
  {
    method: 'POST',
    path: '/google/v1/chat/completions',
    operation: 'chat',
    summary: 'OpenAI chat completions over the Gemini API (key as Bearer or x-goog-api-key, never in a URL).',
    tag: 'google',
  },
  {
    method: 'GET',
    path: '/google/v1/models',
    operation: 'models',
    summary: 'Gemini models as an OpenAI model list (ids without the models/ prefix).',
    tag: 'google',
  },
];

/** Declares GEMINI_API_ROUTES on the raw router, served by the provider pipeline with the Gemini adapter. */
@Injectable()
export class GeminiApiRoutes implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly pipeline: ProviderPipeline,
    @Inject(GEMINI_API_SETTINGS) private readonly settings: GeminiApiSettings,
  ) {}

  onModuleInit(): void {
    registerProviderRoutes(this.registry, this.pipeline, geminiAdapter(this.settings), GEMINI_API_ROUTES);
  }
}
