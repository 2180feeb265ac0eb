import { Injectable, Logger } from '@nestjs/common';
import { type GatewayKeyRecord, gatewayKeyDigest, modelAllowed } from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { TeamState } from './team-state';

/**
 * Who a gateway key is: looked up by its digest in the team database on every request, so a revocation holds at
 * once on every replica. Unknown, revoked and expired keys get 401 `invalid_api_key`; a model outside the key's
 * list 403 `model_not_allowed`.
 */
@Injectable()
export class TeamAccess {
  private readonly logger = new Logger('TeamAccess');

  constructor(private readonly state: TeamState) {}

  async authenticate(key: string, now: Date = new Date()): Promise<GatewayKeyRecord> {
    let record: GatewayKeyRecord | undefined;
    try {
      record = await this.state.keys.findByDigest(gatewayKeyDigest(key));
    } catch (error) {
      this.logger.error(`gateway key lookup failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new GatewayException(
        ErrorCode.UpstreamUnavailable,
        'The gateway cannot check keys right now; try again shortly',
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    if (record === undefined) {
      throw new GatewayException(ErrorCode.InvalidApiKey, 'Incorrect gateway key provided');
    }
    if (record.revokedAt !== null) {
      throw new GatewayException(ErrorCode.InvalidApiKey, 'This gateway key was revoked');
    }
    if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
      throw new GatewayException(ErrorCode.InvalidApiKey, 'This gateway key has expired');
    }
    return record;
  }

  /**
   * 403 unless the key may use `model`: its list names the model, or `servedAs` (the model an alias or a
   * `<name>/<model>` is sent upstream as).
   */
  checkModel(record: GatewayKeyRecord, model: string, servedAs: string = model): void {
    if (!modelAllowed(record.models, model) && !modelAllowed(record.models, servedAs)) {
      throw new GatewayException(ErrorCode.ModelNotAllowed, `This gateway key may not use the model ${model}`, {
        param: 'model',
      });
    }
  }
}
