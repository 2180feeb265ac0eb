import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ClientAddressService } from './client-address.service';
import { HealthController } from './health.controller';
import { MetricsService } from './metrics.service';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { PLATFORM_SETTINGS, ROOT_LOGGER } from './platform.tokens';
import { RawRouteRegistry } from './raw-route.registry';
import { ReadinessService } from './readiness.service';
import { RequestTracker } from './request-tracker.service';
import { AccessLog } from './access-log';
import { createRootLogger, defaultLogDestination } from './root-logger';
import { ShutdownService } from './shutdown.service';

export interface PlatformModuleOptions {
  /** Where JSON logs go; stdout unless a test captures them. */
  logDestination?: DestinationStream;
}

/** Health, readiness, metrics, logging, the error filter, raw routes and shutdown accounting, for every service. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(settings: PlatformSettings, options: PlatformModuleOptions = {}): DynamicModule {
    const shared = [
      MetricsService,
      ShutdownService,
      ReadinessService,
      RequestTracker,
      RawRouteRegistry,
      ClientAddressService,
    ];
    const destination = options.logDestination ?? defaultLogDestination();
    const logger = createRootLogger(settings, destination);
    return {
      module: PlatformModule,
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_SETTINGS, useValue: settings },
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: AccessLog, useValue: new AccessLog(logger, destination, settings.serviceName) },
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
        ...shared,
      ],
      exports: [PLATFORM_SETTINGS, ROOT_LOGGER, ...shared],
    };
  }
}
