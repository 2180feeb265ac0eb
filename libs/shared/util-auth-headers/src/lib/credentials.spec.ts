import { readHeaderText } from './credentials';

describe('readHeaderText', () => {
  it('should return the value when the header is one non-empty text', () => {
    expect(readHeaderText({ 'x-api-key': 'sk-ant-api03-x' }, 'x-api-key')).toBe('sk-ant-api03-x');
  });

  it.each([{}, { 'x-api-key': '' }, { 'x-api-key': ['a', 'b'] }])(
    'should return undefined when the header is absent, empty or a list (%o)',
    (headers) => {
      expect(readHeaderText(headers, 'x-api-key')).toBeUndefined();
    },
  );
});
