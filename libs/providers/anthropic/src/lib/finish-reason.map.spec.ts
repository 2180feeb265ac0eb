import { toFinishReason } from './finish-reason.map';

describe('Anthropic finish reasons', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['a_reason_added_later', 'stop'],
    [null, 'stop'],
    [undefined, 'stop'],
  ])('should map stop_reason %p to %s', (reason, expected) => {
    expect(toFinishReason(reason)).toBe(expected);
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'should read %s as an unknown reason (regression: names on Object.prototype passed the lookup)',
    (reason) => {
      expect(toFinishReason(reason)).toBe('stop');
    },
  );
});
