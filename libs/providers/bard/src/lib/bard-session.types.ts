import type { BardContext, BardTokens } from './bard.transform';

/** The two Google cookies a Bard session runs on (`__Secure-1PSID`, `__Secure-1PSIDTS`). */
export interface BardCookies {
  psid: string;
  psidts: string;
}

/**
 * What the Bard adapter needs beyond mapping objects, implemented by the feature lib: the app page scrape with
 * its token cache, and the conversations kept for follow-ups. Both are keyed by the cookies, so one user's
 * tokens or conversation ids never serve another's.
 */
export interface BardSession {
  /** The page tokens for these cookies: the cached pair, else scraped now (the scrape ends with `signal`). */
  tokens(cookies: BardCookies, signal: AbortSignal): Promise<BardTokens>;
  /** Drops the cached tokens of cookies Bard rejected, so that the next call scrapes the page again. */
  forgetTokens(cookies: BardCookies): void;
  /** Where the conversation `conversationId` of these cookies stands; undefined when it is not (or no longer) kept. */
  conversation(cookies: BardCookies, conversationId: string): BardContext | undefined;
  /** Keeps where the conversation stands after an answer, for its next turn. */
  remember(cookies: BardCookies, conversationId: string, context: BardContext): void;
}
