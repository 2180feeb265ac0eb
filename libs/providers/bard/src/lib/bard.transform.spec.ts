import { NEW_CONVERSATION, encodeStreamGenerateForm, parseStreamGenerate, readBardTokens } from './bard.transform';

const PAGE = `<html><script data-id="_gd" nonce="x">window.WIZ_global_data = {"SNlM0e":"AFWLbD\\u003dtoken:123","cfb2h":"boq_assistant-bard-web-server_20230711.08_p0","other":1};</script></html>`;

function streamGenerate(inner: unknown): string {
  const line = JSON.stringify([
    ['wrb.fr', null, JSON.stringify(inner)],
    ['di', 85],
  ]);
  return `)]}'\n\n${line.length}\n${line}\n25\n[["e",4,null,null,143]]\n`;
}

describe('readBardTokens', () => {
  it('should read SNlM0e and cfb2h as data, escapes decoded', () => {
    expect(readBardTokens(PAGE)).toEqual({
      at: 'AFWLbD=token:123',
      bl: 'boq_assistant-bard-web-server_20230711.08_p0',
    });
  });

  it('should call a page without the token an expired session (401)', () => {
    expect(() => readBardTokens('<html>sign in</html>')).toThrow(expect.objectContaining({ status: 401 }));
  });
});

describe('encodeStreamGenerateForm', () => {
  it('should encode f.req as the original did for a new conversation', () => {
    const form = new URLSearchParams(encodeStreamGenerateForm('hello', { at: 'A', bl: 'B' }, NEW_CONVERSATION));
    expect(form.get('f.req')).toBe('[null,"[[\\"hello\\"],null,[\\"\\",\\"\\",\\"\\"]]"]');
    expect(form.get('at')).toBe('A');
  });

  it('should carry the conversation ids of a follow-up', () => {
    const form = new URLSearchParams(
      encodeStreamGenerateForm('more', { at: 'A', bl: 'B' }, { c: 'c_1', r: 'r_2', rc: 'rc_3' }),
    );
    expect(JSON.parse(JSON.parse(form.get('f.req') ?? '')[1] as string)).toEqual([
      ['more'],
      null,
      ['c_1', 'r_2', 'rc_3'],
    ]);
  });
});

describe('parseStreamGenerate', () => {
  it('should read the first draft, the conversation ids and every draft', () => {
    const inner = [
      null,
      ['c_abc', 'r_def'],
      null,
      null,
      [
        ['rc_1', ['Hello! How can I help?'], []],
        ['rc_2', ['Hi there!'], []],
      ],
    ];
    expect(parseStreamGenerate(streamGenerate(inner))).toEqual({
      text: 'Hello! How can I help?',
      context: { c: 'c_abc', r: 'r_def', rc: 'rc_1' },
      drafts: [
        { id: 'rc_1', text: 'Hello! How can I help?' },
        { id: 'rc_2', text: 'Hi there!' },
      ],
    });
  });

  it('should read a null payload, an answer without drafts and a page as unreadable, saying which', () => {
    const unreadable = (detail: string): unknown => ({
      problem: 'of an unexpected shape',
      message: `Bard answered something that could not be read (${detail})`,
    });
    expect(parseStreamGenerate(`)]}'\n\n[["wrb.fr",null,null,null,null,[9]]]\n`)).toEqual(
      unreadable('no answer payload'),
    );
    expect(parseStreamGenerate(streamGenerate([null, ['c', 'r'], null, null, []]))).toEqual(unreadable('no draft'));
    expect(parseStreamGenerate('<html>error</html>')).toEqual(unreadable('no answer payload'));
  });
});
