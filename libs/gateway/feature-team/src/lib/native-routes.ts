import { underPrefix } from '@openai-proxy/feature-platform';

/** The wire format of a route's answers, for reading their usage: OpenAI's, Anthropic's Messages, or Gemini's. */
export type AnswerDialect = 'openai' | 'anthropic' | 'gemini';

/** Which provider a native path reaches, how its answers read, and whether the gateway holds its credential. */
export interface NativeRoute {
  provider: string;
  dialect: AnswerDialect;
  /**
   * True when a gateway key there is swapped for a provider key the gateway holds; false for the web-session
   * routes (claude.ai, Bard), whose session only the client has.
   */
  attachesKey: boolean;
}

interface NativeRule extends NativeRoute {
  prefix: string;
}

/** The native prefixes, most specific first (`/claude/v1` is the Anthropic API, the rest of `/claude` is claude.ai). */
const NATIVE_RULES: readonly NativeRule[] = [
  { prefix: '/claude/v1', provider: 'anthropic', dialect: 'openai', attachesKey: true },
  { prefix: '/google/v1', provider: 'gemini', dialect: 'openai', attachesKey: true },
  { prefix: '/openai', provider: 'openai', dialect: 'openai', attachesKey: true },
  { prefix: '/anthropic', provider: 'anthropic', dialect: 'anthropic', attachesKey: true },
  { prefix: '/gemini', provider: 'gemini', dialect: 'gemini', attachesKey: true },
  { prefix: '/claude', provider: 'claude.ai', dialect: 'openai', attachesKey: false },
  { prefix: '/google', provider: 'bard', dialect: 'openai', attachesKey: false },
];

/**
 * The provider behind a native path: a built-in prefix, or `/<name>/**` of a configured OpenAI-compatible
 * provider (OpenAI's wire format); undefined for a path under none.
 */
export function nativeRouteOf(pathname: string, compatibleNames: readonly string[]): NativeRoute | undefined {
  const rule = NATIVE_RULES.find((candidate) => underPrefix(pathname, candidate.prefix));
  if (rule !== undefined) {
    return { provider: rule.provider, dialect: rule.dialect, attachesKey: rule.attachesKey };
  }
  const name = compatibleNames.find((candidate) => underPrefix(pathname, `/${candidate}`));
  return name === undefined ? undefined : { provider: name, dialect: 'openai', attachesKey: true };
}

/** The model a Gemini native path names (`/gemini/v1beta/models/gemini-2.5-flash:generateContent`). */
export function geminiPathModel(pathname: string): string | undefined {
  const match = /\/models\/([^/:]+)(?::[A-Za-z]+)?$/.exec(pathname);
  return match?.[1] === undefined ? undefined : decodeURIComponentSafe(match[1]);
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The longest route a ledger row keeps of a native request's path (a path may be as long as a request line). */
export const LEDGER_ROUTE_MAX_CHARS = 512;

/**
 * A native request's route as its ledger row keeps it: the path it called (`/anthropic/v1/messages`), never its
 * query (where Gemini's `key=` goes), up to LEDGER_ROUTE_MAX_CHARS characters.
 */
export function ledgerRouteOf(pathname: string): string {
  return pathname.slice(0, LEDGER_ROUTE_MAX_CHARS);
}
