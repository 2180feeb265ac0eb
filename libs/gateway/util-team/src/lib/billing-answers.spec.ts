import { billingSubscriptionAnswer, billingUsageAnswer, UNLIMITED_USD } from './billing-answers';

describe('billingSubscriptionAnswer', () => {
  it("should answer the key's budget as every limit, and its expiry in unix seconds", () => {
    expect(billingSubscriptionAnswer({ budgetUsd: 20, expiresAt: new Date('2027-01-01T00:00:00.900Z') })).toEqual({
      object: 'billing_subscription',
      has_payment_method: true,
      soft_limit_usd: 20,
      hard_limit_usd: 20,
      system_hard_limit_usd: 20,
      access_until: 1798761600,
    });
  });

  it('should answer a large limit for a key with no budget, and 0 for no expiry', () => {
    expect(billingSubscriptionAnswer({ budgetUsd: null, expiresAt: null })).toMatchObject({
      hard_limit_usd: UNLIMITED_USD,
      soft_limit_usd: UNLIMITED_USD,
      system_hard_limit_usd: UNLIMITED_USD,
      access_until: 0,
    });
  });
});

describe('billingUsageAnswer', () => {
  it('should answer every day of the range with its models, in cents', () => {
    const costs = [
      { day: '2026-12-01', model: 'gpt-4o', costUsd: 0.5 },
      { day: '2026-12-01', model: 'claude-sonnet-4-6', costUsd: 0.0000125 },
      { day: '2026-12-03', model: 'gpt-4o', costUsd: 1 },
      { day: '2026-12-03', model: 'gpt-4o', costUsd: 0.25 },
    ];
    expect(billingUsageAnswer(costs, '2026-12-01', '2026-12-03')).toEqual({
      object: 'list',
      total_usage: 175.0013,
      daily_costs: [
        {
          timestamp: 1796083200,
          line_items: [
            { name: 'gpt-4o', cost: 50 },
            { name: 'claude-sonnet-4-6', cost: 0.0013 },
          ],
        },
        { timestamp: 1796169600, line_items: [] },
        { timestamp: 1796256000, line_items: [{ name: 'gpt-4o', cost: 125 }] },
      ],
    });
  });

  it('should leave out costs outside the range, and answer no days for a range that is not one', () => {
    const costs = [{ day: '2026-11-30', model: 'gpt-4o', costUsd: 3 }];
    expect(billingUsageAnswer(costs, '2026-12-01', '2026-12-01')).toEqual({
      object: 'list',
      total_usage: 0,
      daily_costs: [{ timestamp: 1796083200, line_items: [] }],
    });
    expect(billingUsageAnswer(costs, '2026-12-02', '2026-12-01').daily_costs).toEqual([]);
    expect(billingUsageAnswer(costs, 'today', '2026-12-01').daily_costs).toEqual([]);
  });
});
