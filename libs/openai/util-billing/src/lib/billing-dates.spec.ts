import {
  BillingDateError,
  effectiveRangeText,
  formatIsoDay,
  parseIsoDay,
  resolveRange,
  splitIntoChunks,
} from './billing-dates';

function chunkText(start: string, end: string): Array<[string, string]> {
  return splitIntoChunks(resolveRange({ startDate: start, endDate: end }, new Date())).map((chunk) => [
    formatIsoDay(chunk.start),
    formatIsoDay(chunk.end),
  ]);
}

describe('splitIntoChunks', () => {
  it('should produce the original chunk list for 2022-05-10..2023-05-10', () => {
    expect(chunkText('2022-05-10', '2023-05-10')).toEqual([
      ['2022-05-10', '2022-08-08'],
      ['2022-08-09', '2022-11-07'],
      ['2022-11-08', '2023-02-06'],
      ['2023-02-07', '2023-05-08'],
      ['2023-05-09', '2023-05-10'],
    ]);
  });

  it('should give one chunk for a single day', () => {
    expect(chunkText('2023-08-01', '2023-08-01')).toEqual([['2023-08-01', '2023-08-01']]);
  });

  it('should give exactly one chunk for a 91-day range and two for 92 days', () => {
    expect(chunkText('2023-01-01', '2023-04-01')).toEqual([['2023-01-01', '2023-04-01']]);
    expect(chunkText('2023-01-01', '2023-04-02')).toEqual([
      ['2023-01-01', '2023-04-01'],
      ['2023-04-02', '2023-04-02'],
    ]);
  });

  it('should count February 29 in leap years', () => {
    expect(chunkText('2024-01-01', '2024-06-30')).toEqual([
      ['2024-01-01', '2024-03-31'],
      ['2024-04-01', '2024-06-30'],
    ]);
    expect(chunkText('2023-01-01', '2023-06-30')).toEqual([
      ['2023-01-01', '2023-04-01'],
      ['2023-04-02', '2023-06-30'],
    ]);
  });

  it('should cross the 2000 leap year and the 2100 non-leap year correctly', () => {
    expect(formatIsoDay(parseIsoDay('2000-02-28', 'd') + 1)).toBe('2000-02-29');
    expect(formatIsoDay(parseIsoDay('2100-02-28', 'd') + 1)).toBe('2100-03-01');
  });
});

describe('resolveRange', () => {
  const now = new Date('2023-05-30T23:59:59Z');

  it('should default to the 90 days before today in UTC', () => {
    const range = resolveRange({ startDate: undefined, endDate: undefined }, now);
    expect([formatIsoDay(range.start), formatIsoDay(range.end)]).toEqual(['2023-03-01', '2023-05-30']);
  });

  it('should compute 2023-03-01 + 90 days as 2023-05-30 (the DST bug of the original)', () => {
    expect(formatIsoDay(parseIsoDay('2023-03-01', 'start_date') + 90)).toBe('2023-05-30');
  });

  it('should reject an end before the start', () => {
    expect(() => resolveRange({ startDate: '2023-05-02', endDate: '2023-05-01' }, now)).toThrow(
      new BillingDateError('end_date must come after start_date'),
    );
  });

  it.each(['', '2023-5-1', '2023-02-30', 'yesterday', '2023-13-01'])('should reject the date %p', (text) => {
    expect(() => resolveRange({ startDate: text, endDate: '2023-05-01' }, now)).toThrow(BillingDateError);
  });

  it('should refuse a range longer than five years (one upstream call per chunk)', () => {
    expect(() => resolveRange({ startDate: '1000-01-01', endDate: '2999-12-31' }, now)).toThrow(
      new BillingDateError('The range may cover at most 1827 days; split the query'),
    );
    expect(splitIntoChunks(resolveRange({ startDate: '2018-01-01', endDate: '2022-12-31' }, now))).toHaveLength(21);
  });

  it('should read years before 100 as themselves', () => {
    expect(formatIsoDay(parseIsoDay('0099-12-31', 'd') + 1)).toBe('0100-01-01');
  });

  it('should echo what was given in error bodies', () => {
    expect(effectiveRangeText({ startDate: 'bad', endDate: undefined }, now)).toEqual({
      startDate: 'bad',
      endDate: '2023-05-30',
    });
  });
});
