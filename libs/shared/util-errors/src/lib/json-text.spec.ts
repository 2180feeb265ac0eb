import { parseJsonText } from './json-text';

describe('parseJsonText', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['[1,"x"]', [1, 'x']],
    ['"text"', 'text'],
    ['null', null],
    ['0', 0],
  ])('should read %s as its value', (text, value) => {
    expect(parseJsonText(text)).toEqual(value);
  });

  it.each(['', '{', '<html>', 'undefined', '{"a":1}x'])('should answer undefined for %p', (text) => {
    expect(parseJsonText(text)).toBeUndefined();
  });
});
