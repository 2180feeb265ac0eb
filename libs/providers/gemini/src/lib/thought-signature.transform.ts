/**
 * Gemini thought signatures carried inside OpenAI tool call ids.
 *
 * Gemini 3 answers a function call with an opaque `thoughtSignature` on the `functionCall` part and refuses the
 * next turn unless that part comes back with it. OpenAI's shape has no field for it, but every client sends a
 * tool call's id back unchanged, so the signature rides in the id: `<call id>__thought__<signature>`, the
 * signature in base64url without padding so that the id keeps to `[A-Za-z0-9_-]` (the characters Anthropic
 * allows in tool ids, should the history be replayed there). The separator is the one LiteLLM uses, so an id
 * made by LiteLLM (raw base64 after it) is read too.
 */
const SEPARATOR = '__thought__';
const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]+$/;

/** `id` with `signature` appended; `id` alone when there is none or it is not base64. */
export function withThoughtSignature(id: string, signature: string | undefined): string {
  if (signature === undefined || !STANDARD_BASE64.test(signature)) {
    return id;
  }
  const urlSafe = signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${id}${SEPARATOR}${urlSafe}`;
}

/** The signature a tool call id carries, in standard base64 as Gemini sent it; undefined when it carries none. */
export function thoughtSignatureOf(id: string): string | undefined {
  const at = id.indexOf(SEPARATOR);
  if (at < 0) {
    return undefined;
  }
  const carried = id.slice(at + SEPARATOR.length);
  if (STANDARD_BASE64.test(carried) && /[+/=]/.test(carried)) {
    return carried;
  }
  if (!URL_SAFE_BASE64.test(carried) || carried.length % 4 === 1) {
    return undefined;
  }
  const standard = carried.replace(/-/g, '+').replace(/_/g, '/');
  return standard.padEnd(Math.ceil(standard.length / 4) * 4, '=');
}
