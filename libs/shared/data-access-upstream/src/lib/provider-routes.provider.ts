import type { FactoryProvider, InjectionToken, OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import type { ProviderAdapter, ProviderRoute } from '@openai-proxy/util-provider-contract';
import { ProviderPipeline } from './provider-pipeline.service';
import { registerProviderRoutes } from './provider-routes';

/** A translating provider's OpenAI-style routes: the adapter made from its settings, and the routes it serves. */
export interface ProviderRoutesDeclaration<Settings, Credentials, Operation extends string> {
  /** The injection token of the settings the adapter is made from. */
  settings: InjectionToken;
  adapter(settings: Settings): ProviderAdapter<Credentials, Operation>;
  routes: readonly ProviderRoute<Operation>[];
}

/**
 * The Nest provider that serves a declared adapter's routes through the provider pipeline, so a translating
 * provider needs no code of its own in a feature lib: list this beside its settings in a module's providers.
 * The routes are registered when the module initialises, in order with the module's other raw routes.
 */
export function providerRoutes<Settings, Credentials, Operation extends string>(
  declaration: ProviderRoutesDeclaration<Settings, Credentials, Operation>,
): FactoryProvider<OnModuleInit> {
  return {
    provide: Symbol('ProviderRoutes'),
    inject: [RawRouteRegistry, ProviderPipeline, declaration.settings],
    useFactory: (registry: RawRouteRegistry, pipeline: ProviderPipeline, settings: Settings): OnModuleInit => ({
      onModuleInit: () => registerProviderRoutes(registry, pipeline, declaration.adapter(settings), declaration.routes),
    }),
  };
}
