import fc from 'fast-check';
import { MODEL_PATTERN, modelAllowed, modelMatches } from './model-patterns';

describe('model patterns', () => {
  it('should match a plain pattern only by the exact name', () => {
    expect(modelMatches('gpt-4o', 'gpt-4o')).toBe(true);
    expect(modelMatches('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(modelMatches('gpt-4o', 'GPT-4o')).toBe(false);
  });

  it('should match a pattern ending in * by prefix', () => {
    expect(modelMatches('gpt-*', 'gpt-4o')).toBe(true);
    expect(modelMatches('gpt-*', 'gpt-')).toBe(true);
    expect(modelMatches('gpt-*', 'chatgpt-4o-latest')).toBe(false);
    expect(modelMatches('o1*', 'o1-mini')).toBe(true);
  });

  it('should match every model that starts with the prefix, and no other', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (prefix, model) => {
        expect(modelMatches(`${prefix}*`, model)).toBe(model.startsWith(prefix));
        expect(modelMatches(`${prefix}*`, `${prefix}${model}`)).toBe(true);
      }),
    );
  });

  it('should allow every model when the key lists no patterns', () => {
    fc.assert(fc.property(fc.string(), (model) => expect(modelAllowed([], model)).toBe(true)));
  });

  it('should allow a model when any listed pattern matches it', () => {
    const patterns = ['gpt-*', 'claude-sonnet-4-6'];
    expect(modelAllowed(patterns, 'gpt-4.1-mini')).toBe(true);
    expect(modelAllowed(patterns, 'claude-sonnet-4-6')).toBe(true);
    expect(modelAllowed(patterns, 'claude-sonnet-4-6-thinking')).toBe(false);
    expect(modelAllowed(patterns, 'gemini-2.5-pro')).toBe(false);
  });

  it('should accept model names and prefixes and refuse other text as a pattern', () => {
    for (const pattern of ['gpt-*', 'claude-sonnet-4-6', 'Qwen/Qwen2.5-72B-Instruct', 'llama3.1:8b', 'o1*']) {
      expect(MODEL_PATTERN.test(pattern)).toBe(true);
    }
    for (const pattern of ['', '*', 'gpt-**', 'gpt *', '-gpt', 'g*pt']) {
      expect(MODEL_PATTERN.test(pattern)).toBe(false);
    }
  });
});
