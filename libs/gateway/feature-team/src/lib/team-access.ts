import { Injectable, Logger } from '@nestjs/common';
import {
  type GatewayKeyRecord,
  gatewayKeyDigest,
  isWellFormedGatewayKey,
  modelAllowed,
} from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { KeyRecordCache } from './key-record-cache';
import { TeamState } from './team-state';

/** The 401 for a key no one was given: ill-formed, or not in the team database. */
function incorrectKey(): GatewayException {
  return new GatewayException(ErrorCode.InvalidApiKey, 'Incorrect gateway key provided');
}

/**
 * Who a gateway key is: found by its digest in the team database, and the record trusted for up to a second
 * (KeyRecordCache), so a change or revocation holds at once on the replica that made it (`forget`) and within
 * one second on every other. Unknown, revoked and expired keys get 401 `invalid_api_key` (expiry is checked
 * against the clock on every request), and a key not shaped as the gateway makes them is refused without a
 * lookup; a model outside the key's list 403 `model_not_allowed`.
 */
@Injectable()
export class TeamAccess {
  private readonly logger = new Logger('TeamAccess');
  private readonly records: KeyRecordCache;

  constructor(private readonly state: TeamState) {
    this.records = new KeyRecordCache((digest) => this.state.keys.findByDigest(digest));
  }

  async authenticate(key: string, now: Date = new Date()): Promise<GatewayKeyRecord> {
    if (!isWellFormedGatewayKey(key)) {
      throw incorrectKey();
    }
    let record: GatewayKeyRecord | undefined;
    try {
      record = await this.records.find(gatewayKeyDigest(key));
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
      throw incorrectKey();
    }
    if (record.revokedAt !== null) {
      throw new GatewayException(ErrorCode.InvalidApiKey, 'This gateway key was revoked');
    }
    if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
      throw new GatewayException(ErrorCode.InvalidApiKey, 'This gateway key has expired');
    }
    return record;
  }

  /** Makes the next request with this key read it from the database: for the admin routes that changed it. */
  forget(record: GatewayKeyRecord): void {
    this.records.forget(record.digest);
  }

  /**
   * 403 unless the key may use `model`: its list names the model, or `servedAs` (the model an alias or a
   * `<name>/<model>` is sent upstream as).
   */
  checkModel(record: GatewayKeyRecord, model: string, servedAs: string = model): void {
    if (!this.mayUse(record, model, servedAs)) {
      throw new GatewayException(ErrorCode.ModelNotAllowed, `This gateway key may not use the model ${model}`, {
        param: 'model',
      });
    }
  }

  /** Whether the key may use `model`: its list names it or `servedAs` (a model fallback it may not use is skipped). */
  mayUse(record: GatewayKeyRecord, model: string, servedAs: string = model): boolean {
    return modelAllowed(record.models, model) || modelAllowed(record.models, servedAs);
  }
}
