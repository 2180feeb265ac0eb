import fc from 'fast-check';
import { addDays, daysBetween, parseUtcDay, utcDay, utcMidnightsFrom, utcMonthStart } from './utc-days';

describe('UTC days', () => {
  it('should read real dates only', () => {
    expect(parseUtcDay('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    for (const text of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-1-1', '20261201', '2026-12-01T00:00:00Z', '']) {
      expect(parseUtcDay(text)).toBeUndefined();
    }
  });

  it('should name the day and the month start of a moment in UTC', () => {
    expect(utcDay(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(utcMonthStart(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-01');
  });

  it('should list every midnight of a range, both ends included', () => {
    expect(utcMidnightsFrom('2024-02-28', '2024-03-01').map(utcDay)).toEqual([
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
    expect(utcMidnightsFrom('2024-03-01', '2024-02-28')).toEqual([]);
    expect(utcMidnightsFrom('x', '2024-02-28')).toEqual([]);
  });

  it('should count the days it adds', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
        fc.integer({ min: -400, max: 400 }),
        (date, days) => {
          const midnight = parseUtcDay(utcDay(date));
          expect(midnight).toBeDefined();
          if (midnight !== undefined) {
            expect(daysBetween(midnight, addDays(midnight, days))).toBe(days);
          }
        },
      ),
    );
  });
});
