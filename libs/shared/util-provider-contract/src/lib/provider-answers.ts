import type { z } from 'zod';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import {
  type ChatCompletionRequest,
  type ProviderUsage,
  parseChatCompletionRequest,
} from '@openai-proxy/util-openai-schema';
import type { CallContext, InputReader, ProviderOperation, WholeAnswer } from './provider-adapter.types';

/** What a JSON answer of the expected shape becomes: the client's body and the usage it reports. */
export interface TranslatedAnswer {
  body: unknown;
  usage: ProviderUsage | undefined;
}

/** A JSON answer checked against the adapter's schema, then translated (the common WholeAnswer). */
export function jsonAnswer<T>(schema: z.ZodType<T>, translate: (answer: T) => TranslatedAnswer): WholeAnswer {
  return {
    read(text) {
      const value = parseJsonText(text);
      if (value === undefined) {
        return { problem: 'not JSON' };
      }
      const result = schema.safeParse(value);
      return result.success ? translate(result.data) : { problem: 'of an unexpected shape' };
    },
  };
}

/** A chat completions body, validated at entry: a 400 naming the first bad field. */
export const chatCompletionInput: InputReader<ChatCompletionRequest> = {
  body: 'json',
  parse(body) {
    const parsed = parseChatCompletionRequest(body);
    if ('problem' in parsed) {
      throw new GatewayException(ErrorCode.InvalidRequest, parsed.problem.message, { param: parsed.problem.param });
    }
    return parsed.request;
  },
};

/** An operation that reads no body (a models list). */
export const noInput: InputReader<undefined> = { body: 'none', input: undefined };

/** A provider's models list: where it is asked, with which headers, and how its answer becomes OpenAI's. */
export interface ModelListCall<Credentials, List> {
  /** Path and query below the base URL (`/v1/models?limit=1000`). */
  path: string;
  headers(context: CallContext<Credentials, undefined>): Record<string, string>;
  schema: z.ZodType<List>;
  /** The OpenAI-shaped list (`{object:"list",data:[…]}`). */
  toModelList(list: List): unknown;
}

/** The models-list operation: one GET, its JSON answer checked and translated; a list reports no usage. */
export function modelListOperation<Credentials, List>(
  call: ModelListCall<Credentials, List>,
): ProviderOperation<Credentials, undefined> {
  return {
    input: noInput,
    prepare: (context) => ({
      answer: 'whole',
      request: { method: 'GET', path: call.path, headers: call.headers(context) },
      read: jsonAnswer(call.schema, (list) => ({ body: call.toModelList(list), usage: undefined })),
    }),
  };
}
