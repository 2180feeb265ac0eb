import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type ControlPlaneAnswer, ControlPlaneClient } from '@openai-proxy/data-access-upstream';
import {
  type BardContext,
  type BardTokens,
  NEW_CONVERSATION,
  encodeStreamGenerateForm,
  parseStreamGenerate,
  readBardTokens,
} from '@openai-proxy/provider-bard';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { BARD_SETTINGS, type BardSettings } from './bard.settings';
import { ExpiringMap } from './expiring-map';

const BROWSER_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const STREAM_GENERATE_PATH = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
const MAX_ENTRIES = 10_000;

export interface BardCookies {
  psid: string;
  psidts: string;
}

/** Bard through browser cookies, the original proxy's route with its bugs fixed (docs/legacy-routes.md). */
@Injectable()
export class BardService {
  private readonly tokens: ExpiringMap<BardTokens>;
  private readonly conversations: ExpiringMap<BardContext>;
  private requestNumber = 100_000;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    @Inject(BARD_SETTINGS) private readonly settings: BardSettings,
  ) {
    this.tokens = new ExpiringMap(settings.tokenTtlMs, MAX_ENTRIES);
    this.conversations = new ExpiringMap(settings.conversationTtlMs, MAX_ENTRIES);
  }

  /**
   * Asks Bard; a `conversationId` continues that conversation (for the same cookies), none starts a new one.
   * The page and answer calls are one exchange for `client`: they end when it leaves, and at the drain cap.
   */
  ask(
    cookies: BardCookies,
    prompt: string,
    conversationId: string | undefined,
    client: ServerResponse,
  ): Promise<string> {
    return this.controlPlane.exchange('bard', client, (exchange) =>
      this.askWithin(cookies, prompt, conversationId, exchange.signal),
    );
  }

  private async askWithin(
    cookies: BardCookies,
    prompt: string,
    conversationId: string | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    const cookieKey = createHash('sha256').update(`${cookies.psid}\n${cookies.psidts}`).digest('hex');
    const conversationKey = conversationId === undefined ? undefined : `${cookieKey}\n${conversationId}`;
    const context =
      (conversationKey === undefined ? undefined : this.conversations.get(conversationKey)) ?? NEW_CONVERSATION;
    const tokens = this.tokens.get(cookieKey) ?? (await this.scrape(cookies, cookieKey, signal));
    this.requestNumber = (this.requestNumber % 900_000) + 1;
    const path = `${STREAM_GENERATE_PATH}?bl=${encodeURIComponent(tokens.bl)}&_reqid=${this.requestNumber}&rt=c`;
    const answer = await this.send('POST', path, cookies, signal, encodeStreamGenerateForm(prompt, tokens, context));
    if (answer.status === 401 || answer.status === 403) {
      this.tokens.delete(cookieKey);
      throw new GatewayException(
        ErrorCode.InvalidApiKey,
        'Bard rejected the session: refresh __Secure-1PSID and __Secure-1PSIDTS',
      );
    }
    if (answer.status === 429) {
      throw new GatewayException(ErrorCode.RateLimited, 'Bard is rate limiting these cookies');
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw new GatewayException(ErrorCode.UpstreamBadResponse, `Bard answered ${answer.status}`);
    }
    const parsed = parseStreamGenerate(answer.text);
    if (conversationKey !== undefined) {
      this.conversations.set(conversationKey, parsed.context);
    }
    return parsed.text;
  }

  private async scrape(cookies: BardCookies, cookieKey: string, signal: AbortSignal): Promise<BardTokens> {
    const page = await this.send('GET', '/app', cookies, signal);
    if (page.status === 401 || page.status === 403) {
      throw new GatewayException(
        ErrorCode.InvalidApiKey,
        'Bard rejected the cookies: refresh __Secure-1PSID and __Secure-1PSIDTS',
      );
    }
    if (page.status < 200 || page.status >= 400) {
      throw new GatewayException(ErrorCode.UpstreamBadResponse, `Bard's page answered ${page.status}`);
    }
    const tokens = readBardTokens(page.text);
    this.tokens.set(cookieKey, tokens);
    return tokens;
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    cookies: BardCookies,
    signal: AbortSignal,
    form?: string,
  ): Promise<ControlPlaneAnswer> {
    return this.controlPlane.request({
      name: 'bard',
      method,
      url: new URL(`${this.settings.bardBase}${path}`),
      headers: {
        cookie: `__Secure-1PSID=${cookies.psid}; __Secure-1PSIDTS=${cookies.psidts}`,
        'user-agent': BROWSER_USER_AGENT,
        accept: method === 'GET' ? 'text/html' : '*/*',
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }),
      },
      ...(form === undefined ? {} : { data: form }),
      signal,
    });
  }
}
