import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ControlPlaneClient } from '@openai-proxy/data-access-upstream';
import {
  type ClaudeWebConversations,
  type WebAnswer,
  type WebCallOptions,
  type WebMethod,
  claudeWebError,
  claudeWebHeaders,
  conversationsPath,
} from '@openai-proxy/provider-claude-web';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import { CLAUDE_WEB_SETTINGS, type ClaudeWebSettings } from './claude-web.settings';

/** claude.ai conversation management (control plane, ControlPlaneClient): the claude.ai adapters' I/O. */
@Injectable()
export class ClaudeWebService implements ClaudeWebConversations {
  constructor(
    private readonly controlPlane: ControlPlaneClient,
    @Inject(CLAUDE_WEB_SETTINGS) readonly settings: ClaudeWebSettings,
  ) {}

  /** One claude.ai call; `signal` (an exchange's) ends it. */
  async call(method: WebMethod, path: string, sessionKey: string, options: WebCallOptions = {}): Promise<WebAnswer> {
    const { body, signal } = options;
    const answer = await this.controlPlane.request({
      name: 'claude.ai',
      method,
      url: new URL(`${this.settings.webBase}${path}`),
      headers: {
        ...claudeWebHeaders(sessionKey, 'application/json'),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { data: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
    return {
      status: answer.status,
      text: answer.text,
      json: parseJsonText(answer.text),
      retryAfter: answer.retryAfter,
    };
  }

  /**
   * Creates a conversation; returns its uuid (claude.ai's answer, else the one we chose). The client's leaving
   * does not end it, on purpose: it serves a call that deletes the conversation after, and a creation cut
   * halfway could still land at claude.ai. The drain cap ends it (503), and then asks claude.ai, best effort, to
   * delete the conversation by the uuid we chose, so none is left behind. A client already gone (`signal`
   * aborted) makes none.
   */
  async createConversation(org: string, sessionKey: string, name: string, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted === true) {
      throw new GatewayException(ErrorCode.InvalidRequest, 'The client left before its conversation was made');
    }
    const uuid = randomUUID();
    // Its own exchange, without the client: only the drain cap ends it.
    const answer = await this.controlPlane
      .exchange('claude.ai', undefined, (exchange) =>
        this.call('POST', conversationsPath(org), sessionKey, { body: { uuid, name }, signal: exchange.signal }),
      )
      .catch((error: unknown) => {
        if (error instanceof GatewayException && error.code === ErrorCode.ShuttingDown) {
          this.deleteConversation(org, sessionKey, uuid).catch(() => undefined);
        }
        throw error;
      });
    if (answer.status < 200 || answer.status >= 300) {
      throw claudeWebError(answer.status, answer.json, answer.retryAfter);
    }
    const created = (answer.json as { uuid?: unknown } | undefined)?.uuid;
    return typeof created === 'string' ? created : uuid;
  }

  /** Deletes one conversation; the cleanup after a call passes no signal, so it runs even when the client left. */
  async deleteConversation(
    org: string,
    sessionKey: string,
    conversation: string,
    signal?: AbortSignal,
  ): Promise<number> {
    return (await this.call('DELETE', conversationsPath(org, conversation), sessionKey, { signal })).status;
  }
}
