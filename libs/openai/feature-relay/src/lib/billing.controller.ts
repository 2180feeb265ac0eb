import { All, Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type BillingErrorBody, effectiveRangeText } from '@openai-proxy/openai-util-billing';
import { BillingError, BillingService } from './billing.service';

/** The billing route: served here by Nest, and reserved so that the OpenAI relay never takes it. */
export const BILLING_PATH = '/openai/billing/credit_grants';

function queryText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

@ApiTags('openai')
@Controller()
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  @Get(BILLING_PATH)
  @ApiOperation({
    summary: 'How much of the key was used: key mode (sk-) sums usage, session mode (sess-) passes through.',
  })
  @ApiQuery({ name: 'start_date', required: false, description: 'YYYY-MM-DD, default end_date - 90 days' })
  @ApiQuery({ name: 'end_date', required: false, description: 'YYYY-MM-DD, default today (UTC)' })
  async creditGrants(@Req() request: Request, @Res() response: Response): Promise<void> {
    const now = new Date();
    const query = { startDate: queryText(request.query['start_date']), endDate: queryText(request.query['end_date']) };
    const clientGone = new AbortController();
    response.once('close', () => clientGone.abort());
    try {
      const body = await this.billing.creditGrants(
        {
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          ...query,
          signal: clientGone.signal,
        },
        now,
      );
      response.status(200).json(body);
    } catch (error) {
      if (!(error instanceof BillingError)) {
        throw error;
      }
      const range = effectiveRangeText(query, now);
      const body: BillingErrorBody = { error: error.message, start_date: range.startDate, end_date: range.endDate };
      response.status(error.status).set(error.headers).json(body);
    }
  }

  @All(BILLING_PATH)
  methodNotAllowed(): never {
    throw new GatewayException(ErrorCode.MethodNotAllowed, `Only GET is allowed on ${BILLING_PATH}`);
  }
}
