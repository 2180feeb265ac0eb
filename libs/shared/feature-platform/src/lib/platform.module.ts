import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { HealthController } from './health.controller';
import { createLoggerParams } from './logger.options';
import { MetricsService } from './metrics.service';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { PLATFORM_SETTINGS } from './platform.tokens';
import { ReadinessService } from './readiness.service';
import { ShutdownService } from './shutdown.service';

export interface PlatformModuleOptions {
  /** Where JSON logs go; stdout unless a test captures them. */
  logDestination?: DestinationStream;
}

/** Health, readiness, metrics, logging, the error filter and shutdown accounting, for every service. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(settings: PlatformSettings, options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: PlatformModule,
      imports: [LoggerModule.forRoot(createLoggerParams(settings, options.logDestination))],
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_SETTINGS, useValue: settings },
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
        MetricsService,
        ShutdownService,
        ReadinessService,
      ],
      exports: [PLATFORM_SETTINGS, MetricsService, ShutdownService, ReadinessService],
    };
  }
}
