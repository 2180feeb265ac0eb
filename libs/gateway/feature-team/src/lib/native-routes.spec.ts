import fc from 'fast-check';
import { LEDGER_ROUTE_MAX_CHARS, geminiPathModel, ledgerRouteOf, nativeRouteOf } from './native-routes';

describe(nativeRouteOf.name, () => {
  it.each([
    ['/openai/v1/chat/completions', 'openai', 'openai', true],
    ['/anthropic/v1/messages', 'anthropic', 'anthropic', true],
    ['/gemini/v1beta/models/gemini-2.5-flash:generateContent', 'gemini', 'gemini', true],
    ['/claude/v1/chat/completions', 'anthropic', 'openai', true],
    ['/google/v1/chat/completions', 'gemini', 'openai', true],
    ['/claude/org-1/v1/chat/completions', 'claude.ai', 'openai', false],
    ['/claude/append_message', 'claude.ai', 'openai', false],
    ['/google/bard', 'bard', 'openai', false],
    ['/deepseek/v1/chat/completions', 'deepseek', 'openai', true],
  ])('should send %s to %s (%s answers, key attached: %s)', (path, provider, dialect, attachesKey) => {
    expect(nativeRouteOf(path, ['deepseek'])).toEqual({ provider, dialect, attachesKey });
  });

  it('should know no provider under another path, nor a prefix that only starts alike', () => {
    expect(nativeRouteOf('/openaix/v1/models', [])).toBeUndefined();
    expect(nativeRouteOf('/deepseekx/v1', ['deepseek'])).toBeUndefined();
    expect(nativeRouteOf('/admin/keys', [])).toBeUndefined();
  });
});

describe(geminiPathModel.name, () => {
  it('should read the model of a Gemini method path, and nothing from other paths', () => {
    expect(geminiPathModel('/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent')).toBe('gemini-2.5-flash');
    expect(geminiPathModel('/gemini/v1beta/models/gemini-2.5-pro')).toBe('gemini-2.5-pro');
    expect(geminiPathModel('/gemini/v1beta/models')).toBeUndefined();
    expect(geminiPathModel('/gemini/v1beta/models/%E0%A4:generateContent')).toBeUndefined();
  });
});

describe(ledgerRouteOf.name, () => {
  it('should keep a path whole up to the cap, and only its start past it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2 * LEDGER_ROUTE_MAX_CHARS }), (tail) => {
        const path = `/anthropic/${tail}`;
        const route = ledgerRouteOf(path);
        expect(path.startsWith(route)).toBe(true);
        expect(route).toHaveLength(Math.min(path.length, LEDGER_ROUTE_MAX_CHARS));
      }),
    );
  });
});
