import { ExpiringMap } from './expiring-map';

describe(ExpiringMap.name, () => {
  it('should keep an entry until its time to live has passed, then forget it', () => {
    const map = new ExpiringMap<string>(1_000, 10);
    map.set('k', 'v', 0);
    expect(map.get('k', 999)).toBe('v');
    expect(map.get('k', 1_000)).toBeUndefined();
    expect(map.get('k', 0)).toBeUndefined();
  });

  it('should restart the time to live when an entry is set again', () => {
    const map = new ExpiringMap<string>(1_000, 10);
    map.set('k', 'old', 0);
    map.set('k', 'new', 900);
    expect(map.get('k', 1_500)).toBe('new');
  });

  it('should drop the oldest entry when it is full, never the one being set', () => {
    const map = new ExpiringMap<number>(1_000, 2);
    map.set('a', 1, 0);
    map.set('b', 2, 0);
    map.set('a', 10, 0);
    map.set('c', 3, 0);
    expect([map.get('a', 0), map.get('b', 0), map.get('c', 0)]).toEqual([10, undefined, 3]);
  });

  it('should forget a deleted entry', () => {
    const map = new ExpiringMap<number>(1_000, 2);
    map.set('a', 1, 0);
    map.delete('a');
    expect(map.get('a', 0)).toBeUndefined();
  });
});
