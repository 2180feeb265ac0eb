import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { ProviderPipeline, registerProviderRoutes } from '@openai-proxy/data-access-upstream';
import { type BardOperation, bardAdapter } from '@openai-proxy/provider-bard';
import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import { BARD_SETTINGS, type BardSettings } from './bard.settings';
import { BardService } from './bard.service';

/** `POST /google/bard`: `{"prompt", "conversationId"?}` with the two Google cookies; the answer is a bare JSON string. */
export const BARD_ROUTES: readonly ProviderRoute<BardOperation>[] = [
  {
    method: 'POST',
    path: '/google/bard',
    operation: 'ask',
    summary: 'Bard through browser cookies; a conversationId continues that conversation.',
    tag: 'google',
  },
];

/** Declares BARD_ROUTES on the raw router, served by the provider pipeline with the Bard adapter and its session. */
@Injectable()
export class BardRoutes implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly pipeline: ProviderPipeline,
    private readonly session: BardService,
    @Inject(BARD_SETTINGS) private readonly settings: BardSettings,
  ) {}

  onModuleInit(): void {
    registerProviderRoutes(
      this.registry,
      this.pipeline,
      bardAdapter(this.settings.bardBase, this.session),
      BARD_ROUTES,
    );
  }
}
