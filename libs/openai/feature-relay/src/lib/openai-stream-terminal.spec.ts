import { openAiStreamTerminal } from './openai-stream-terminal';

describe('openAiStreamTerminal', () => {
  it.each(['/v1/chat/completions', '/v1/completions', '/v1/chat/completions/', '/v1/chat/completions?x=1'])(
    'should end %s at data: [DONE]',
    (path) => {
      expect(openAiStreamTerminal(path)).toEqual({ lastData: '[DONE]' });
    },
  );

  it('should end the Responses API at its final events, error included', () => {
    expect(openAiStreamTerminal('/v1/responses')).toEqual({
      finalEvents: ['response.completed', 'response.failed', 'response.incomplete', 'error'],
    });
  });

  it.each(['/v1/threads/t/runs', '/v1/audio/speech', '/v1/responses/resp_1', '/v1/models'])(
    'should assume no terminal for %s (a complete stream never gets an error frame added)',
    (path) => {
      expect(openAiStreamTerminal(path)).toBeUndefined();
    },
  );
});
