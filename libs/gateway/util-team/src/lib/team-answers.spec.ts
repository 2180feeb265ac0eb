import { createdKeyAnswer, keyAnswer, keyListAnswer, roundUsd, usageAnswer } from './team-answers';
import type { GatewayKeyRecord } from './team.types';

const record: GatewayKeyRecord = {
  id: 'key_abc',
  name: 'alice',
  keyPrefix: 'gk-AbCdE',
  digest: 'f'.repeat(64),
  models: ['gpt-*'],
  rpm: 60,
  tpm: null,
  budgetUsd: 20,
  budgetPeriod: 'monthly',
  expiresAt: new Date('2027-01-01T00:00:00Z'),
  createdAt: new Date('2026-12-01T08:30:00Z'),
  revokedAt: null,
};

describe('key answers', () => {
  it('should show a key as listed: its prefix, what it spent, never its digest', () => {
    const answer = keyAnswer(record, 1.23456789);
    expect(answer).toEqual({
      object: 'gateway_key',
      id: 'key_abc',
      name: 'alice',
      key_prefix: 'gk-AbCdE',
      models: ['gpt-*'],
      rpm: 60,
      tpm: null,
      budget_usd: 20,
      budget_period: 'monthly',
      expires_at: '2027-01-01T00:00:00.000Z',
      created_at: '2026-12-01T08:30:00.000Z',
      revoked_at: null,
      spent_usd: 1.234568,
    });
    expect(JSON.stringify(answer)).not.toContain(record.digest);
  });

  it('should show when a key was revoked, and no expiry as null', () => {
    const revoked = { ...record, expiresAt: null, revokedAt: new Date('2026-12-02T00:00:00Z') };
    expect(keyAnswer(revoked, 0)).toMatchObject({ expires_at: null, revoked_at: '2026-12-02T00:00:00.000Z' });
  });

  it('should list keys in an OpenAI list', () => {
    expect(keyListAnswer([{ record, spentUsd: 0 }])).toEqual({ object: 'list', data: [keyAnswer(record, 0)] });
    expect(keyListAnswer([])).toEqual({ object: 'list', data: [] });
  });

  it('should show a created key with its key and the settings, and nothing of its digest', () => {
    const answer = createdKeyAnswer(record, 'gk-AbCdEfGh');
    expect(answer).toEqual({
      object: 'gateway_key',
      id: 'key_abc',
      key: 'gk-AbCdEfGh',
      name: 'alice',
      models: ['gpt-*'],
      rpm: 60,
      tpm: null,
      budget_usd: 20,
      budget_period: 'monthly',
      expires_at: '2027-01-01T00:00:00.000Z',
      created_at: '2026-12-01T08:30:00.000Z',
    });
    expect(JSON.stringify(answer)).not.toContain(record.digest);
  });
});

describe('usageAnswer', () => {
  it('should answer groups and their total in snake_case, the key name only when grouped by key', () => {
    const query = { startDate: '2026-12-01', endDate: '2026-12-15', groupBy: 'key' as const };
    const report = {
      data: [
        { group: 'key_abc', name: 'alice', requests: 3, promptTokens: 30, completionTokens: 9, costUsd: 0.1234567 },
        { group: 'key_def', requests: 1, promptTokens: 5, completionTokens: 1, costUsd: 0 },
      ],
      total: { requests: 4, promptTokens: 35, completionTokens: 10, costUsd: 0.1234567 },
    };
    expect(usageAnswer(query, report)).toEqual({
      object: 'list',
      start_date: '2026-12-01',
      end_date: '2026-12-15',
      group_by: 'key',
      data: [
        { group: 'key_abc', name: 'alice', requests: 3, prompt_tokens: 30, completion_tokens: 9, cost_usd: 0.123457 },
        { group: 'key_def', requests: 1, prompt_tokens: 5, completion_tokens: 1, cost_usd: 0 },
      ],
      total: { requests: 4, prompt_tokens: 35, completion_tokens: 10, cost_usd: 0.123457 },
    });
  });
});

describe('roundUsd', () => {
  it('should round to a millionth of a dollar', () => {
    expect(roundUsd(0.0000004)).toBe(0);
    expect(roundUsd(0.0000005)).toBe(0.000001);
    expect(roundUsd(12.3456789)).toBe(12.345679);
  });
});
