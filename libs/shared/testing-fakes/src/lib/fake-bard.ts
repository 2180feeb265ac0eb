import type { LeavingRequest } from './client-leaves';
import { type FakeHandler, FakeUpstream, type RecordedRequest } from './fake-upstream';

export const FAKE_BARD_STREAM_GENERATE = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';

function cookiesOk(request: RecordedRequest): boolean {
  const cookie = String(request.headers.cookie ?? '');
  return /__Secure-1PSID=g\.a000[^;]*/.test(cookie) && /__Secure-1PSIDTS=sidts-[^;]*/.test(cookie);
}

function streamGenerateAnswer(inner: unknown): string {
  const line = JSON.stringify([
    ['wrb.fr', null, JSON.stringify(inner)],
    ['di', 85],
  ]);
  return `)]}'\n\n${line.length}\n${line}\n25\n[["e",4,null,null,143]]\n`;
}

/**
 * The fake's StreamGenerate answer: the wrb.fr format, with a conversation id handed out to each new chat and
 * the turns of each counted (`Bard turn <n>: you said <prompt>`); 401 for cookies or a token it did not give.
 */
export function fakeBardStreamGenerate(): FakeHandler {
  let conversations = 0;
  const turns = new Map<string, number>();
  return (request, response) => {
    const form = new URLSearchParams(request.body.toString());
    if (!cookiesOk(request) || form.get('at') !== 'AFake=Token') {
      response.writeHead(401, { 'content-type': 'text/html' }).end('<html>Unauthorized</html>');
      return;
    }
    const outer = JSON.parse(form.get('f.req') ?? '[null,"[]"]') as [null, string];
    const inner = JSON.parse(outer[1]) as [string[], null, string[]];
    const prompt = inner[0][0] ?? '';
    let conversation = inner[2][0] ?? '';
    if (conversation === '') {
      conversations += 1;
      conversation = `c_fake${conversations}`;
    }
    const turn = (turns.get(conversation) ?? 0) + 1;
    turns.set(conversation, turn);
    const answer = `Bard turn ${turn}: you said ${prompt}`;
    const payload = [
      null,
      [conversation, `r_${turn}`],
      null,
      null,
      [
        [`rc_${turn}a`, [answer], []],
        [`rc_${turn}b`, [`Draft B: ${prompt}`], []],
      ],
    ];
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(streamGenerateAnswer(payload));
  };
}

/**
 * A fake gemini.google.com for the Bard route: `/app` carries WIZ_global_data with SNlM0e and cfb2h for good
 * cookies (`__Secure-1PSID=g.a000…`, `__Secure-1PSIDTS=sidts-…`); StreamGenerate is fakeBardStreamGenerate.
 */
export async function startFakeBard(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  return fake
    .on('GET', '/app', (request, response) => {
      if (!cookiesOk(request)) {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>');
        return;
      }
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<html><script data-id="_gd">window.WIZ_global_data = {"SNlM0e":"AFake\\u003dToken","cfb2h":"boq_assistant-bard-web-server_20260101.00_p0"};</script></html>',
        );
    })
    .on('POST', FAKE_BARD_STREAM_GENERATE, fakeBardStreamGenerate());
}

/** A Bard question to POST /google/bard with `psid` as the session cookie: the request a leaving client abandons. */
export function leavingBardAsk(psid: string): LeavingRequest {
  return {
    method: 'POST',
    path: '/google/bard',
    headers: { cookie: `__Secure-1PSID=${psid};__Secure-1PSIDTS=sidts-abort`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'are you there?' }),
  };
}
