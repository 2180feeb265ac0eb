import { DynamicModule, Module } from '@nestjs/common';
import { ClaudeWebRoutes } from './claude-web.routes';
import { ClaudeWebService } from './claude-web.service';
import { CLAUDE_WEB_SETTINGS, type ClaudeWebSettings } from './claude-web.settings';

/** Claude through the claude.ai web session: the original's routes and its OpenAI-style routes (raw routes). */
@Module({})
export class ClaudeWebModule {
  static register(settings: ClaudeWebSettings): DynamicModule {
    return {
      module: ClaudeWebModule,
      providers: [{ provide: CLAUDE_WEB_SETTINGS, useValue: settings }, ClaudeWebService, ClaudeWebRoutes],
    };
  }
}
