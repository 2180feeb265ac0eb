import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { ProviderPipeline, registerProviderRoutes } from '@openai-proxy/data-access-upstream';
import {
  type ClaudeConversationsOperation,
  type ClaudeWebCompletionsOperation,
  claudeConversationsAdapter,
  claudeWebCompletionsAdapter,
} from '@openai-proxy/provider-claude-web';
import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import { ClaudeWebService } from './claude-web.service';

const TAG = 'claude.ai';

/** OpenAI chat completions over claude.ai, as the original proxy offered them; session key as Bearer. */
export const CLAUDE_WEB_COMPLETIONS_ROUTES: readonly ProviderRoute<ClaudeWebCompletionsOperation>[] = [
  {
    method: 'POST',
    path: '/claude/:org/v1/chat/completions',
    operation: 'freshChat',
    summary: 'OpenAI-style over claude.ai: a fresh conversation per call (deleted after, when auto-delete is on).',
    tag: TAG,
  },
  {
    method: 'POST',
    path: '/claude/:org/:conversation/v1/chat/completions',
    operation: 'conversationChat',
    summary: 'OpenAI-style over claude.ai in the given conversation (claude.ai keeps its history).',
    tag: TAG,
  },
];

const CONVERSATIONS = '/claude/organizations/:org/chat_conversations';
const CONVERSATION = `${CONVERSATIONS}/:conversation`;

/** claude.ai's own routes as the original proxy served them, session key in `Cookie: sessionKey=`. */
export const CLAUDE_CONVERSATIONS_ROUTES: readonly ProviderRoute<ClaudeConversationsOperation>[] = [
  {
    method: 'GET',
    path: CONVERSATIONS,
    operation: 'list',
    summary: 'List conversations (claude.ai answer and status passed through).',
    tag: TAG,
  },
  {
    method: 'POST',
    path: CONVERSATIONS,
    operation: 'create',
    summary: 'Create a conversation: {"name", "uuid"?}; an empty name takes the default name.',
    tag: TAG,
  },
  {
    method: 'DELETE',
    path: CONVERSATIONS,
    operation: 'deleteAll',
    summary: 'Delete every conversation of the organization, one after another; answers "success".',
    tag: TAG,
  },
  { method: 'GET', path: CONVERSATION, operation: 'get', summary: 'One conversation with its messages.', tag: TAG },
  {
    method: 'DELETE',
    path: CONVERSATION,
    operation: 'deleteOne',
    summary: 'Delete one conversation (claude.ai status passed through).',
    tag: TAG,
  },
  {
    method: 'POST',
    path: '/claude/append_message',
    operation: 'appendMessage',
    summary: 'Send a message: text/event-stream clients get claude.ai events as they come, others the joined text.',
    tag: TAG,
  },
  {
    method: 'POST',
    path: '/claude/retry_message',
    operation: 'retryMessage',
    summary: 'Regenerate the last answer (same forms as append_message).',
    tag: TAG,
  },
];

/** Declares the claude.ai routes on the raw router, served by the provider pipeline with the claude.ai adapters. */
@Injectable()
export class ClaudeWebRoutes implements OnModuleInit {
  private readonly logger = new Logger(ClaudeWebRoutes.name);

  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly pipeline: ProviderPipeline,
    private readonly claude: ClaudeWebService,
  ) {}

  onModuleInit(): void {
    const { settings } = this.claude;
    const completions = claudeWebCompletionsAdapter({ settings, conversations: this.claude, log: this.logger });
    registerProviderRoutes(this.registry, this.pipeline, completions, CLAUDE_WEB_COMPLETIONS_ROUTES);
    const conversations = claudeConversationsAdapter(settings, this.claude);
    registerProviderRoutes(this.registry, this.pipeline, conversations, CLAUDE_CONVERSATIONS_ROUTES);
  }
}
