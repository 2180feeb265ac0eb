import fc from 'fast-check';
import { MAX_USAGE_RANGE_DAYS, parseKeyCreate, parseKeyPatch, parseUsageQuery } from './admin-input';

describe('parseKeyCreate', () => {
  it('should give a key with only a name every model, no limit and a monthly period', () => {
    expect(parseKeyCreate({ name: ' alice ' })).toEqual({
      ok: true,
      settings: {
        name: 'alice',
        models: [],
        rpm: null,
        tpm: null,
        budgetUsd: null,
        budgetPeriod: 'monthly',
        expiresAt: null,
      },
    });
  });

  it('should read every setting', () => {
    const body = {
      name: 'bob',
      models: ['gpt-*', 'claude-sonnet-4-6'],
      rpm: 60,
      tpm: 100000,
      budget_usd: 20.5,
      budget_period: 'total',
      expires_at: '2027-01-31T12:00:00+08:00',
    };
    expect(parseKeyCreate(body)).toEqual({
      ok: true,
      settings: {
        name: 'bob',
        models: ['gpt-*', 'claude-sonnet-4-6'],
        rpm: 60,
        tpm: 100000,
        budgetUsd: 20.5,
        budgetPeriod: 'total',
        expiresAt: new Date('2027-01-31T04:00:00Z'),
      },
    });
    expect(parseKeyCreate({ name: 'c', rpm: null, budget_usd: 0, expires_at: null })).toMatchObject({
      ok: true,
      settings: { rpm: null, budgetUsd: 0, expiresAt: null },
    });
  });

  it('should refuse a bad body with a message naming the field', () => {
    const cases: [unknown, string, string][] = [
      [{}, 'name', 'name is required'],
      [{ name: '   ' }, 'name', 'name must not be empty'],
      [{ name: 'x'.repeat(101) }, 'name', 'name must be at most 100 characters'],
      [{ name: 7 }, 'name', 'name must be a text of 1 to 100 characters'],
      [
        { name: 'a', models: 'gpt-*' },
        'models',
        'models must be a list of model names or prefixes (such as ["gpt-*"])',
      ],
      [
        { name: 'a', models: ['gpt-*', 'g*pt'] },
        'models[1]',
        'models[1] must be a model name, or a prefix and one "*"',
      ],
      [{ name: 'a', rpm: 0 }, 'rpm', 'rpm must be a positive integer or null'],
      [{ name: 'a', tpm: 1.5 }, 'tpm', 'tpm must be a positive integer or null'],
      [{ name: 'a', rpm: '60' }, 'rpm', 'rpm must be a positive integer or null'],
      [{ name: 'a', budget_usd: -1 }, 'budget_usd', 'budget_usd must be a number of USD, 0 or more, or null'],
      [{ name: 'a', budget_period: 'weekly' }, 'budget_period', 'budget_period must be "monthly" or "total"'],
      [
        { name: 'a', expires_at: '2027-01-31' },
        'expires_at',
        expect.stringContaining('expires_at must be an ISO-8601'),
      ],
      [{ name: 'a', key: 'gk-x' }, 'key', 'key is not a setting of a key'],
      [null, 'body', 'The body must be a JSON object'],
      [['name'], 'body', 'The body must be a JSON object'],
    ] as [unknown, string, string][];
    for (const [body, param, message] of cases) {
      expect(parseKeyCreate(body)).toEqual({ ok: false, param, message });
    }
  });

  it('should answer a result and never throw, for any body', () => {
    fc.assert(
      fc.property(fc.anything(), fc.dictionary(fc.string(), fc.jsonValue()), (value, fields) => {
        for (const body of [value, fields, { name: 'n', ...fields }]) {
          const result = parseKeyCreate(body);
          expect(result.ok || result.message.startsWith(result.param === 'body' ? 'The body' : result.param)).toBe(
            true,
          );
        }
      }),
    );
  });
});

describe('parseKeyPatch', () => {
  it('should give only the settings that were sent', () => {
    expect(parseKeyPatch({})).toEqual({ ok: true, settings: {} });
    expect(parseKeyPatch({ rpm: null, budget_period: 'total' })).toEqual({
      ok: true,
      settings: { rpm: null, budgetPeriod: 'total' },
    });
    expect(parseKeyPatch({ models: [], expires_at: '2027-01-01T00:00:00Z' })).toEqual({
      ok: true,
      settings: { models: [], expiresAt: new Date('2027-01-01T00:00:00Z') },
    });
  });

  it('should refuse what create refuses, a null name and unknown fields', () => {
    expect(parseKeyPatch({ name: null })).toMatchObject({ ok: false, param: 'name' });
    expect(parseKeyPatch({ tpm: -5 })).toMatchObject({ ok: false, param: 'tpm' });
    expect(parseKeyPatch({ revoked_at: null })).toMatchObject({ ok: false, param: 'revoked_at' });
  });
});

describe('parseUsageQuery', () => {
  const now = new Date('2026-12-15T10:00:00Z');
  const query = (text: string) => parseUsageQuery(new URLSearchParams(text), now);

  it('should default to the current UTC month up to today, by day', () => {
    expect(query('')).toEqual({ ok: true, query: { startDate: '2026-12-01', endDate: '2026-12-15', groupBy: 'day' } });
  });

  it('should start a range with only an end at the first of its month', () => {
    expect(query('end_date=2026-02-28&group_by=key')).toEqual({
      ok: true,
      query: { startDate: '2026-02-01', endDate: '2026-02-28', groupBy: 'key' },
    });
  });

  it('should read dates and every grouping', () => {
    for (const group of ['key', 'model', 'day']) {
      expect(query(`start_date=2026-01-01&end_date=2026-12-31&group_by=${group}`)).toEqual({
        ok: true,
        query: { startDate: '2026-01-01', endDate: '2026-12-31', groupBy: group },
      });
    }
  });

  it('should refuse dates that are not real, a reversed range, a long range and an unknown grouping', () => {
    const cases: [string, string][] = [
      ['start_date=2026-02-30', 'start_date'],
      ['start_date=2026-1-01', 'start_date'],
      ['end_date=yesterday', 'end_date'],
      ['end_date=', 'end_date'],
      ['start_date=2026-12-16', 'start_date'],
      ['start_date=2026-03-02&end_date=2026-03-01', 'start_date'],
      ['start_date=2024-01-01&end_date=2025-01-02', 'end_date'],
      ['group_by=week', 'group_by'],
      ['group_by=', 'group_by'],
    ];
    for (const [text, param] of cases) {
      expect(query(text)).toMatchObject({ ok: false, param, message: expect.stringContaining(param) });
    }
  });

  it(`should take a range of ${MAX_USAGE_RANGE_DAYS} days and no more`, () => {
    expect(query('start_date=2024-01-01&end_date=2025-01-01').ok).toBe(true);
    expect(query('start_date=2024-01-01&end_date=2025-01-02').ok).toBe(false);
  });

  it('should accept exactly the real dates', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }),
        (date) => {
          const day = date.toISOString().slice(0, 10);
          expect(query(`start_date=${day}&end_date=${day}`)).toEqual({
            ok: true,
            query: { startDate: day, endDate: day, groupBy: 'day' },
          });
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseUsageQuery(new URLSearchParams({ start_date: text, end_date: text }), now);
        if (result.ok) {
          expect(new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10)).toBe(text);
        } else {
          expect(result.param).toBe('end_date');
        }
      }),
    );
  });
});
