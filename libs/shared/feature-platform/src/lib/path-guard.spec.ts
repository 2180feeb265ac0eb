import { escapesBasePath, hasFragment } from './path-guard';

describe('escapesBasePath', () => {
  it.each([
    '/anthropic/../../admin/keys',
    '/openai/v1/..',
    '/openai/./v1/models',
    '/openai/%2e%2e/admin',
    '/openai/%2E%2E/admin',
    '/openai/.%2e/admin',
    '/openai/..%2fadmin',
    '/openai/v1%2f..%2fadmin',
    '/openai/v1%2F..',
    '/openai/v1\\..\\admin',
    '/openai/v1/%5c..%5cadmin',
    '/openai/%252e%252e/admin',
    '/openai/%25252e%25252e/admin',
    '/openai/..;x/admin',
    'http://host/openai/../admin',
  ])('should refuse %s', (path) => {
    expect(escapesBasePath(path)).toBe(true);
  });

  it.each([
    '/openai/v1/chat/completions',
    '/openai/v1/models/gpt-4.1-mini',
    '/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent',
    '/openai/v1/files/file-abc.jsonl/content',
    '/openai/v1/vector_stores/.well/x',
    '/openai/v1/.../x',
    '/openai/v1/name%20with%20space',
    '/openai/v1/%zz',
    '/openai/v1/a..b',
  ])('should let %s through', (path) => {
    expect(escapesBasePath(path)).toBe(false);
  });
});

describe('hasFragment', () => {
  it.each(['/openai/v1/models#@host', '/openai/v1/models?limit=1#x', '#', '/v1/chat/completions#'])(
    'should see the fragment in %s',
    (target) => {
      expect(hasFragment(target)).toBe(true);
    },
  );

  it.each([
    '/openai/v1/models',
    '/openai/v1/models?after=%23x',
    '/gemini/v1beta/models/gemini-2.5-flash:generateContent',
  ])('should see no fragment in %s', (target) => {
    expect(hasFragment(target)).toBe(false);
  });
});
