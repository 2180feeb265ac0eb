// What one soak request asks the fake provider (soak-upstream.mjs) to do, written into the body's `model`: the one
// field every route carries to the provider unchanged (the translating bridges forward an allow-list of headers,
// so a header would not arrive). The grammar, parts joined by dots after the model's name:
//
//   <name>[.<chunks>x<gapMs>][.wait<ms>][.<cut>@<n>][.5xx][.abandon]
//
//   <chunks>x<gapMs>  a stream of that many numbered chunks, one every gapMs (default 20x20)
//   wait<ms>          the first chunk only after ms (the headers at once)
//   reset@n           a TCP RST after n chunks           close@n  a clean end after n chunks, without the terminator
//   stall@n           silence after n chunks, the connection held until the client leaves
//   error@n           a provider error event after n chunks, then the end
//   5xx               503 with the provider's error body, before any byte of a stream
//   abandon           the client means to leave early: a stream of this plan that still runs to its end is counted
//                     (the upstream call outlived its client)
//
// `claude-*` names go to Anthropic in team mode and `gpt-*` to OpenAI, so the plans keep those prefixes.

const DEFAULT_CHUNKS = 20;
const DEFAULT_GAP_MS = 20;
/** The largest stream a plan may ask for, so a typo cannot keep the fake writing for hours. */
const MAX_CHUNKS = 10_000;

/** The text of every non-streamed answer. */
export const JSON_TEXT = 'soak-json';

/** The text of chunk `index`: what the client reassembles and checks. */
export function chunkText(index) {
  return `s${index} `;
}

/** The whole text of a stream of `chunks` chunks, in order. */
export function streamText(chunks) {
  return Array.from({ length: chunks }, (_, index) => chunkText(index)).join('');
}

/**
 * A plan as a model name: `name` and the parts of `plan` that differ from the defaults.
 * `plan`: { chunks?, gapMs?, waitMs?, cut?: { how, after }, fail?, abandon? }.
 */
export function planModel(name, plan = {}) {
  const parts = [name];
  if (plan.chunks !== undefined || plan.gapMs !== undefined)
    parts.push(`${plan.chunks ?? DEFAULT_CHUNKS}x${plan.gapMs ?? DEFAULT_GAP_MS}`);
  if (plan.waitMs !== undefined) parts.push(`wait${plan.waitMs}`);
  if (plan.cut !== undefined) parts.push(`${plan.cut.how}@${plan.cut.after}`);
  if (plan.fail === true) parts.push('5xx');
  if (plan.abandon === true) parts.push('abandon');
  return parts.join('.');
}

/** Reads a plan from a model name; unknown parts are ignored, so any model reads as a plain answer. */
export function parsePlan(model) {
  const plan = {
    chunks: DEFAULT_CHUNKS,
    gapMs: DEFAULT_GAP_MS,
    waitMs: 0,
    cut: undefined,
    fail: false,
    abandon: false,
  };
  for (const part of String(model ?? '').split('.')) {
    const shape = /^(\d+)x(\d+)$/.exec(part);
    const wait = /^wait(\d+)$/.exec(part);
    const cut = /^(reset|close|stall|error)@(\d+)$/.exec(part);
    if (shape) {
      plan.chunks = Math.min(MAX_CHUNKS, Number(shape[1]));
      plan.gapMs = Number(shape[2]);
    } else if (wait) plan.waitMs = Number(wait[1]);
    else if (cut) plan.cut = { how: cut[1], after: Number(cut[2]) };
    else if (part === '5xx') plan.fail = true;
    else if (part === 'abandon') plan.abandon = true;
  }
  return plan;
}
