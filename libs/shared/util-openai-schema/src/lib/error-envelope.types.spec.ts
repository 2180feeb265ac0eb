import { parseDataUrl } from './data-url';
import { createOpenAiErrorEnvelope } from './error-envelope.types';

describe('createOpenAiErrorEnvelope', () => {
  it('should always carry param and code, null when none is given', () => {
    expect(createOpenAiErrorEnvelope('Nope', 'server_error')).toEqual({
      error: { message: 'Nope', type: 'server_error', param: null, code: null },
    });
    expect(createOpenAiErrorEnvelope('Bad', 'invalid_request_error', 'invalid_request', 'model')).toEqual({
      error: { message: 'Bad', type: 'invalid_request_error', param: 'model', code: 'invalid_request' },
    });
  });
});

describe('parseDataUrl', () => {
  it('should read the media type and the data of a base64 data URL, line breaks in the data included', () => {
    expect(parseDataUrl('data:image/png;base64,iVBOR\nw0K')).toEqual({ mimeType: 'image/png', data: 'iVBOR\nw0K' });
  });

  it.each(['https://example.com/cat.png', 'data:image/png,rawtext', 'data:;base64,AAAA', 'xdata:image/png;base64,AA'])(
    'should answer undefined for %s',
    (url) => {
      expect(parseDataUrl(url)).toBeUndefined();
    },
  );
});
