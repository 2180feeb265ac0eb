import { providerNamesDifference, readinessCheckNames } from './provider-agreement';

describe(providerNamesDifference.name, () => {
  it('should say nothing when both sides list the same names in any order', () => {
    expect(providerNamesDifference('openai-relay', ['qwen', 'deepseek'], ['deepseek', 'qwen'])).toBeUndefined();
    expect(providerNamesDifference('openai-relay', [], [])).toBeUndefined();
  });

  it('should name what only one side has when the lists differ', () => {
    expect(providerNamesDifference('openai-relay', ['deepseek', 'qwen'], ['deepseek', 'kimi'])).toBe(
      'provider names differ: not served by the openai-relay: qwen; not routed by the gateway: kimi',
    );
    expect(providerNamesDifference('openai-relay', [], ['kimi'])).toBe(
      'provider names differ: not routed by the gateway: kimi',
    );
  });
});

describe(readinessCheckNames.name, () => {
  it('should read the check names when the body is a readiness report', () => {
    expect(readinessCheckNames('{"status":"ready","checks":{"deepseek":{"ok":true},"kimi":{"ok":true}}}')).toEqual([
      'deepseek',
      'kimi',
    ]);
  });

  it.each(['not json', '[]', '{"status":"ready"}', '{"checks":[1]}'])(
    'should give undefined when the body is %s',
    (body) => {
      expect(readinessCheckNames(body)).toBeUndefined();
    },
  );
});
