import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { UnreadableAnswer } from '@openai-proxy/util-provider-contract';

/** The page values StreamGenerate needs: `SNlM0e` (the XSRF token `at`) and `cfb2h` (the build label `bl`). */
export interface BardTokens {
  at: string;
  bl: string;
}

/** Where a conversation stands: conversation, response and chosen draft ids (empty for a new chat). */
export interface BardContext {
  c: string;
  r: string;
  rc: string;
}

export interface BardDraft {
  id: string;
  text: string;
}

export interface BardAnswer {
  text: string;
  context: BardContext;
  drafts: BardDraft[];
}

export const NEW_CONVERSATION: BardContext = { c: '', r: '', rc: '' };

/** Reads one `"key":"value"` pair of WIZ_global_data from the page, as data: the page's script never runs. */
function pageValue(html: string, key: string): string | undefined {
  const match = new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(html);
  if (match?.[1] === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch {
    return undefined;
  }
}

/** The `at`/`bl` pair from the app page; a page without them means the cookies no longer open a session. */
export function readBardTokens(html: string): BardTokens {
  const at = pageValue(html, 'SNlM0e');
  const bl = pageValue(html, 'cfb2h');
  if (at === undefined || bl === undefined) {
    throw new GatewayException(
      ErrorCode.InvalidApiKey,
      'Bard did not accept the cookies (no session token on the page): refresh __Secure-1PSID and __Secure-1PSIDTS',
    );
  }
  return { at, bl };
}

/** The StreamGenerate form body: `f.req=[null,"[[prompt],null,[c,r,rc]]"]` and `at`, URL-encoded. */
export function encodeStreamGenerateForm(prompt: string, tokens: BardTokens, context: BardContext): string {
  const inner = JSON.stringify([[prompt], null, [context.c, context.r, context.rc]]);
  return new URLSearchParams({ 'f.req': JSON.stringify([null, inner]), at: tokens.at }).toString();
}

function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** An answer without the parts we read: the pipeline answers 502 upstream_bad_response with this message. */
function unreadable(detail: string): UnreadableAnswer {
  return { problem: 'of an unexpected shape', message: `Bard answered something that could not be read (${detail})` };
}

/** The `wrb.fr` payloads of a StreamGenerate answer (`)]}'` prefix, then length-prefixed JSON lines). */
function wrbPayloads(body: string): unknown[] {
  const payloads: unknown[] = [];
  for (const line of body.replace(/^\)\]\}'/, '').split('\n')) {
    if (!line.includes('wrb.fr')) {
      continue;
    }
    let rows: unknown;
    try {
      rows = JSON.parse(line) as unknown;
    } catch {
      continue;
    }
    for (const row of isArray(rows) ? rows : []) {
      if (isArray(row) && row[0] === 'wrb.fr' && typeof row[2] === 'string') {
        try {
          payloads.push(JSON.parse(row[2]) as unknown);
        } catch {
          continue;
        }
      }
    }
  }
  return payloads;
}

/**
 * The answer of a StreamGenerate call: the first draft's text (`json[4][0][1][0]`), the conversation ids
 * (`json[1]` = [c, r], the first draft's id as rc) and every draft; no payload, or an unexpected shape, is unreadable.
 */
export function parseStreamGenerate(body: string): BardAnswer | UnreadableAnswer {
  const payload = wrbPayloads(body).find((candidate) => isArray(candidate) && isArray(candidate[4]));
  if (!isArray(payload)) {
    return unreadable('no answer payload');
  }
  const ids = isArray(payload[1]) ? payload[1] : [];
  const drafts = (payload[4] as unknown[]).flatMap((draft): BardDraft[] => {
    if (!isArray(draft) || typeof draft[0] !== 'string' || !isArray(draft[1]) || typeof draft[1][0] !== 'string') {
      return [];
    }
    return [{ id: draft[0], text: draft[1][0] }];
  });
  const first = drafts[0];
  if (first === undefined) {
    return unreadable('no draft');
  }
  return {
    text: first.text,
    context: { c: typeof ids[0] === 'string' ? ids[0] : '', r: typeof ids[1] === 'string' ? ids[1] : '', rc: first.id },
    drafts,
  };
}
