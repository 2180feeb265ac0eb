import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  ControlPlaneClient,
  RelayService,
  type RelayTarget,
  type UpstreamExchange,
} from '@openai-proxy/data-access-upstream';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import { claudeWebError } from './claude-web.errors';
import { CLAUDE_WEB_SETTINGS, type ClaudeWebSettings } from './claude-web.settings';

/** A browser's User-Agent: claude.ai serves browsers. */
const BROWSER_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** An upstream answer as it came: status, raw text and (when it is JSON) the parsed body. */
export interface WebAnswer {
  status: number;
  text: string;
  json: unknown;
  retryAfter: string | undefined;
}

/** What a claude.ai call may carry besides its route: a JSON body, and the client's abort signal. */
export interface WebCallOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** The only headers claude.ai gets: the session cookie and what a browser would send. */
export function claudeWebHeaders(sessionKey: string, accept: string): Record<string, string> {
  return {
    cookie: `sessionKey=${sessionKey}`,
    accept,
    'user-agent': BROWSER_USER_AGENT,
    'accept-encoding': 'identity',
  };
}

/** claude.ai conversation management (control plane, ControlPlaneClient). */
@Injectable()
export class ClaudeWebService {
  readonly target: RelayTarget;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    relayService: RelayService,
    @Inject(CLAUDE_WEB_SETTINGS) readonly settings: ClaudeWebSettings,
  ) {
    this.target = relayService.target({ name: 'claude.ai', baseUrl: settings.webBase, kind: 'provider' });
  }

  conversationsPath(org: string, conversation?: string): string {
    const base = `/organizations/${encodeURIComponent(org)}/chat_conversations`;
    return conversation === undefined ? base : `${base}/${encodeURIComponent(conversation)}`;
  }

  /**
   * Runs claude.ai calls as one exchange for `client` (see ControlPlaneClient.exchange): they end when it
   * leaves, and at the drain cap (503). Without a client only the drain ends them.
   */
  exchange<T>(client: ServerResponse | undefined, run: (exchange: UpstreamExchange) => Promise<T>): Promise<T> {
    return this.controlPlane.exchange('claude.ai', client, run);
  }

  /** One claude.ai call as its own exchange for `client`. */
  callFor(
    client: ServerResponse,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    sessionKey: string,
    body?: unknown,
  ): Promise<WebAnswer> {
    return this.exchange(client, (exchange) => this.call(method, path, sessionKey, { body, signal: exchange.signal }));
  }

  /** One claude.ai call; `signal` (an exchange's) ends it. */
  async call(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    sessionKey: string,
    options: WebCallOptions = {},
  ): Promise<WebAnswer> {
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
   * delete the conversation by the uuid we chose, so none is left behind.
   */
  async createConversation(org: string, sessionKey: string, name: string): Promise<string> {
    const uuid = randomUUID();
    const answer = await this.exchange(undefined, (exchange) =>
      this.call('POST', this.conversationsPath(org), sessionKey, { body: { uuid, name }, signal: exchange.signal }),
    ).catch((error: unknown) => {
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
    return (await this.call('DELETE', this.conversationsPath(org, conversation), sessionKey, { signal })).status;
  }
}
