import { z } from 'zod';
import { ErrorCode } from '@openai-proxy/util-errors';
import { guardItems, guardTransformer, parseEventData, unreadableEventItem } from './provider-event';
import type { StreamItem, StreamTransformer } from './stream-item.types';

const schema = z.object({ text: z.string() });

describe('parseEventData', () => {
  it('should answer the value when the data is JSON of the expected shape', () => {
    expect(parseEventData(schema, '{"text":"hi"}')).toEqual({ text: 'hi' });
  });

  it.each(['', 'not json', '{"text":5}', 'null', '[]'])('should answer undefined for %p', (data) => {
    expect(parseEventData(schema, data)).toBeUndefined();
  });
});

describe('unreadableEventItem', () => {
  it('should be an upstream_bad_response error naming the provider and never the event', () => {
    expect(unreadableEventItem('Gemini')).toEqual({
      kind: 'error',
      error: expect.objectContaining({
        code: ErrorCode.UpstreamBadResponse,
        message: 'Gemini sent an unreadable event',
      }),
    });
  });
});

describe('guardItems', () => {
  it('should pass the items of a step that does not throw', () => {
    const items: StreamItem[] = [unreadableEventItem('x')];
    expect(guardItems('p', () => items)).toBe(items);
  });

  it('should turn an exception into the unreadable-event item, its message not echoed', () => {
    expect(
      guardItems('Anthropic', () => {
        throw new Error('secret sk-ant-api-123 in the event');
      }),
    ).toEqual([unreadableEventItem('Anthropic')]);
  });
});

describe('guardTransformer', () => {
  const failing: StreamTransformer<string> = {
    transform: (event) => {
      throw new Error(event);
    },
    flush: () => {
      throw new Error('flush');
    },
  };

  it('should end the stream with an error item when transform or flush throws', () => {
    const guarded = guardTransformer(failing, 'claude.ai');
    expect(guarded.transform('boom')).toEqual([unreadableEventItem('claude.ai')]);
    expect(guarded.flush()).toEqual([unreadableEventItem('claude.ai')]);
  });

  it('should pass through what a well-behaved transformer yields', () => {
    const item = unreadableEventItem('a');
    const guarded = guardTransformer<string>({ transform: () => [item], flush: () => [] }, 'a');
    expect(guarded.transform('e')).toEqual([item]);
    expect(guarded.flush()).toEqual([]);
  });
});
