import { z } from 'zod';
import { ConfigValidationError, parseEnvironment } from './env-schema';
import {
  openAiApiRoot,
  BUILT_IN_PREFIXES,
  openAiCompatibleProvidersSchema,
  parseOpenAiCompatibleProviders,
} from './openai-compatible-providers';

function problemsOf(value: string): readonly string[] {
  const result = parseOpenAiCompatibleProviders(value);
  return result.ok ? [] : result.problems;
}

describe('parseOpenAiCompatibleProviders', () => {
  it('should read comma-separated name=baseURL pairs in order when they are good', () => {
    expect(parseOpenAiCompatibleProviders('deepseek=https://api.deepseek.com, ollama=http://127.0.0.1:11434')).toEqual({
      ok: true,
      providers: [
        { name: 'deepseek', baseUrl: 'https://api.deepseek.com' },
        { name: 'ollama', baseUrl: 'http://127.0.0.1:11434' },
      ],
    });
  });

  it('should keep the base path and drop a trailing slash when the URL has them', () => {
    expect(parseOpenAiCompatibleProviders('qwen=https://dashscope.aliyuncs.com/compatible-mode/')).toEqual({
      ok: true,
      providers: [{ name: 'qwen', baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode' }],
    });
  });

  it('should give no providers when the value is empty or only separators', () => {
    expect(parseOpenAiCompatibleProviders('')).toEqual({ ok: true, providers: [] });
    expect(parseOpenAiCompatibleProviders(' , ')).toEqual({ ok: true, providers: [] });
  });

  it('should name the entry when the URL is bad', () => {
    const problems = problemsOf('deepseek=not a url,groq=ftp://api.groq.com');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('deepseek');
    expect(problems[0]).toContain('not a url');
    expect(problems[1]).toContain('groq');
  });

  it('should refuse a base URL with a login, a query or a fragment, which the relay would drop, repeating no login', () => {
    const problems = problemsOf(
      'a=https://user:secret@api.example.com,b=https://api.example.com/v1?api-version=1,c=https://api.example.com#top',
    );
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('secret');
    for (const problem of problems) {
      expect(problem).toContain('no login, query or fragment');
    }
  });

  it('should name the entry when it has no = or no name', () => {
    expect(problemsOf('https://api.deepseek.com')[0]).toContain('https://api.deepseek.com');
    expect(problemsOf('=https://api.deepseek.com')[0]).toContain('name');
  });

  it.each(['DeepSeek', 'deep_seek', 'deep.seek', 'deep seek', 'ds/v1', '-', '--', '-ds', 'ds-'])(
    'should reject the name %s when it is not lowercase [a-z0-9-] with a letter or digit at each end',
    (name) => {
      const problems = problemsOf(`${name}=https://api.deepseek.com`);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`"${name.trim()}"`);
      expect(problems[0]).toContain('[a-z0-9-]');
    },
  );

  it.each([...BUILT_IN_PREFIXES])('should reject %s when the name collides with a built-in prefix', (name) => {
    const problems = problemsOf(`${name}=https://example.com`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`"${name}"`);
    expect(problems[0]).toContain('built-in');
  });

  it('should name a duplicate when a name appears twice', () => {
    const problems = problemsOf('deepseek=https://a.example,deepseek=https://b.example');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('"deepseek"');
    expect(problems[0]).toContain('more than once');
  });

  it('should list every problem at once when several entries are bad', () => {
    expect(problemsOf('openai=https://a.example,Bad=https://b.example,x=nope')).toHaveLength(3);
  });
});

describe('openAiCompatibleProvidersSchema', () => {
  const shape = { OPENAI_COMPATIBLE_PROVIDERS: openAiCompatibleProvidersSchema };

  it('should default to no providers when the variable is unset', () => {
    expect(parseEnvironment(shape, {}).OPENAI_COMPATIBLE_PROVIDERS).toEqual([]);
  });

  it('should name the variable and each problem when the value is bad', () => {
    let caught: unknown;
    try {
      parseEnvironment(shape, { OPENAI_COMPATIBLE_PROVIDERS: 'admin=https://a.example,x=nope' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigValidationError);
    const problems = (caught as ConfigValidationError).problems;
    expect(problems).toHaveLength(2);
    for (const problem of problems) {
      expect(problem.startsWith('OPENAI_COMPATIBLE_PROVIDERS: ')).toBe(true);
    }
  });

  it('should type its output as name and baseUrl pairs', () => {
    const output: z.infer<typeof openAiCompatibleProvidersSchema> = [{ name: 'a', baseUrl: 'http://x' }];
    expect(output).toHaveLength(1);
  });
});

describe('openAiApiRoot', () => {
  it.each([
    ['https://api.deepseek.com', '/v1'],
    ['https://dashscope.aliyuncs.com/compatible-mode', '/v1'],
    ['https://openrouter.ai/api', '/v1'],
    ['http://127.0.0.1:11434', '/v1'],
    ['https://open.bigmodel.cn/api/paas/v4', ''],
    ['https://ark.cn-beijing.volces.com/api/v3', ''],
    ['https://api.groq.com/openai/v1', ''],
    ['https://generativelanguage.googleapis.com/v1beta', ''],
    ['https://example.com/v1/openai', '/v1'],
    ['https://example.com/video', '/v1'],
  ])('should start the OpenAI-format API of %s at %j under it', (baseUrl, root) => {
    expect(openAiApiRoot({ baseUrl })).toBe(root);
  });
});
