import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { JsonBodyMiddleware } from '@openai-proxy/feature-platform';
import { ClaudeConversationsController } from './claude-conversations.controller';
import { ClaudeWebCompletionsController } from './claude-web-completions.controller';
import { ClaudeWebService } from './claude-web.service';
import { CLAUDE_WEB_SETTINGS, type ClaudeWebSettings } from './claude-web.settings';

/** Claude through the claude.ai web session: the original's routes and its OpenAI-style routes. */
@Module({})
export class ClaudeWebModule implements NestModule {
  static register(settings: ClaudeWebSettings): DynamicModule {
    return {
      module: ClaudeWebModule,
      controllers: [ClaudeConversationsController, ClaudeWebCompletionsController],
      providers: [{ provide: CLAUDE_WEB_SETTINGS, useValue: settings }, ClaudeWebService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes(ClaudeConversationsController, ClaudeWebCompletionsController);
  }
}
