import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ControlPlaneClient } from '@openai-proxy/data-access-upstream';
import {
  type BardContext,
  type BardCookies,
  type BardSession,
  type BardTokens,
  bardHeaders,
  readBardTokens,
} from '@openai-proxy/provider-bard';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { BARD_SETTINGS, type BardSettings } from './bard.settings';
import { ExpiringMap } from './expiring-map';

const MAX_ENTRIES = 10_000;

/** The cache key of a cookie pair: a digest, so that no cookie value is kept as a key. */
function cookieKey(cookies: BardCookies): string {
  return createHash('sha256').update(`${cookies.psid}\n${cookies.psidts}`).digest('hex');
}

/**
 * The Bard adapter's session (docs/legacy-routes.md): the app page scraped for its `at`/`bl` tokens on the
 * control plane, kept for `tokenTtlMs` per cookie pair; the conversations kept for `conversationTtlMs`.
 */
@Injectable()
export class BardService implements BardSession {
  private readonly tokenCache: ExpiringMap<BardTokens>;
  private readonly conversations: ExpiringMap<BardContext>;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    @Inject(BARD_SETTINGS) private readonly settings: BardSettings,
  ) {
    this.tokenCache = new ExpiringMap(settings.tokenTtlMs, MAX_ENTRIES);
    this.conversations = new ExpiringMap(settings.conversationTtlMs, MAX_ENTRIES);
  }

  async tokens(cookies: BardCookies, signal: AbortSignal): Promise<BardTokens> {
    const key = cookieKey(cookies);
    const cached = this.tokenCache.get(key);
    if (cached !== undefined) {
      return cached;
    }
    const tokens = await this.scrape(cookies, signal);
    this.tokenCache.set(key, tokens);
    return tokens;
  }

  forgetTokens(cookies: BardCookies): void {
    this.tokenCache.delete(cookieKey(cookies));
  }

  conversation(cookies: BardCookies, conversationId: string): BardContext | undefined {
    return this.conversations.get(`${cookieKey(cookies)}\n${conversationId}`);
  }

  remember(cookies: BardCookies, conversationId: string, context: BardContext): void {
    this.conversations.set(`${cookieKey(cookies)}\n${conversationId}`, context);
  }

  private async scrape(cookies: BardCookies, signal: AbortSignal): Promise<BardTokens> {
    const page = await this.controlPlane.request({
      name: 'bard',
      method: 'GET',
      url: new URL(`${this.settings.bardBase}/app`),
      headers: bardHeaders(cookies, 'text/html'),
      signal,
    });
    if (page.status === 401 || page.status === 403) {
      throw new GatewayException(
        ErrorCode.InvalidApiKey,
        'Bard rejected the cookies: refresh __Secure-1PSID and __Secure-1PSIDTS',
      );
    }
    if (page.status < 200 || page.status >= 400) {
      throw new GatewayException(ErrorCode.UpstreamBadResponse, `Bard's page answered ${page.status}`);
    }
    return readBardTokens(page.text);
  }
}
