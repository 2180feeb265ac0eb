import { z } from 'zod';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { CallContext } from './provider-adapter.types';
import { chatCompletionInput, jsonAnswer, modelListOperation, noInput } from './provider-answers';

const listSchema = z.object({ models: z.array(z.object({ id: z.string() })) });

function context(credentials: string): CallContext<string, undefined> {
  return {
    input: undefined,
    credentials,
    headers: {},
    params: {},
    pathname: '/v1/models',
    signal: new AbortController().signal,
  };
}

describe(jsonAnswer.name, () => {
  const read = jsonAnswer(listSchema, (list) => ({ body: list.models.map((model) => model.id), usage: undefined }));

  it('should translate an answer of the schema when it is JSON of that shape', () => {
    expect(read.read('{"models":[{"id":"a"},{"id":"b"}]}')).toEqual({ body: ['a', 'b'], usage: undefined });
  });

  it.each([['<html>blocked</html>'], [''], ['{"models":']])('should name "not JSON" when the answer is %j', (text) => {
    expect(read.read(text)).toEqual({ problem: 'not JSON' });
  });

  it.each([['{"models":null}'], ['[]'], ['{"models":[{"id":5}]}'], ['null']])(
    'should name "of an unexpected shape" when the answer is %s',
    (text) => {
      expect(read.read(text)).toEqual({ problem: 'of an unexpected shape' });
    },
  );
});

describe('chatCompletionInput', () => {
  it('should return the validated request when the body is a chat completions request', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expect(chatCompletionInput.body === 'json' && chatCompletionInput.parse(body)).toMatchObject(body);
  });

  it('should throw a 400 naming the field when the body is not a chat completions request', () => {
    expect.assertions(3);
    try {
      if (chatCompletionInput.body === 'json') {
        chatCompletionInput.parse({ model: 'm', messages: 'hi' });
      }
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayException);
      expect((error as GatewayException).code).toBe(ErrorCode.InvalidRequest);
      expect((error as GatewayException).param).toBe('messages');
    }
  });

  it('should read no body when the operation is a list', () => {
    expect(noInput).toEqual({ body: 'none', input: undefined });
  });
});

describe(modelListOperation.name, () => {
  it('should plan one GET with the adapter headers and read the list into the OpenAI shape when prepared', async () => {
    const operation = modelListOperation<string, z.infer<typeof listSchema>>({
      path: '/v1/models?limit=1000',
      headers: ({ credentials }) => ({ 'x-api-key': credentials }),
      schema: listSchema,
      toModelList: (list) => ({ object: 'list', data: list.models.map(({ id }) => ({ id, object: 'model' })) }),
    });
    const prepared = await operation.prepare(context('sk-test'));
    if (prepared.answer !== 'whole') {
      throw new Error(`expected a whole answer, got ${prepared.answer}`);
    }
    expect(prepared.request).toEqual({
      method: 'GET',
      path: '/v1/models?limit=1000',
      headers: { 'x-api-key': 'sk-test' },
    });
    expect(prepared.read.read('{"models":[{"id":"m1"}]}')).toEqual({
      body: { object: 'list', data: [{ id: 'm1', object: 'model' }] },
      usage: undefined,
    });
  });
});
