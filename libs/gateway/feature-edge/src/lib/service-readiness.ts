import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { type ReadinessResult, ReadinessService } from '@openai-proxy/feature-platform';
import { RelayService } from '@openai-proxy/data-access-upstream';
import { SERVICES_MANIFEST, compatibleProvidersService } from '@openai-proxy/util-services';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { providerNamesDifference, readinessCheckNames } from './provider-agreement';
import { type ServiceRoute, serviceRoutes } from './service-routes';

const CHECK_TIMEOUT_MS = 2_000;
/** A readiness report is a few hundred bytes; a larger answer is not read. */
const MAX_READINESS_BODY_BYTES = 64 * 1024;

interface ServiceProbe {
  statusCode: number;
  /** The service's own check names, read only where the gateway compares provider names. */
  checkNames: readonly string[] | undefined;
}

/** The body as text, or undefined once it grows past `limit` bytes (the rest is not read). */
async function readBounded(body: Readable, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The gateway's readiness reflects its services: each one's `/readyz` is asked and reported with the providers
 * it serves (from the services manifest, plus the OpenAI-compatible names under the service that serves them).
 * The gateway is ready while at least one service is, so one provider being down does not take the others off
 * the air. When the compatible names the relay serves differ from the ones the gateway routes, the relay's
 * check is not ok (requests to a name it lacks would fail), names the difference, and one warning is logged
 * each time the difference changes.
 */
@Injectable()
export class ServiceReadiness implements OnModuleInit {
  private readonly logger = new Logger(ServiceReadiness.name);
  private readonly lastDifference = new Map<string, string | undefined>();

  constructor(
    private readonly readiness: ReadinessService,
    private readonly relayService: RelayService,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  onModuleInit(): void {
    this.readiness.setPolicy('any');
    const compatibleOwner = compatibleProvidersService(SERVICES_MANIFEST).name;
    for (const route of serviceRoutes(this.settings)) {
      const compatible = route.name === compatibleOwner ? this.settings.compatibleProviderNames : undefined;
      this.readiness.register(route.name, () => this.check(route, compatible));
    }
  }

  private async check(route: ServiceRoute, compatible: readonly string[] | undefined): Promise<ReadinessResult> {
    const providers = [...route.providers, ...(compatible ?? [])];
    const probe = await this.probe(route.url, compatible !== undefined);
    if (probe === undefined) {
      return { ok: false, detail: 'unreachable', providers };
    }
    const answered = `readyz answered ${probe.statusCode}`;
    const difference =
      compatible === undefined || probe.checkNames === undefined
        ? undefined
        : providerNamesDifference(route.name, compatible, probe.checkNames);
    this.noteDifference(route.name, difference);
    return difference === undefined
      ? { ok: probe.statusCode === 200, detail: answered, providers }
      : { ok: false, detail: `${answered}; ${difference}`, providers };
  }

  /** The service's `/readyz` status (and its check names when asked), or undefined when it cannot be reached. */
  private async probe(baseUrl: string, readNames: boolean): Promise<ServiceProbe | undefined> {
    const url = new URL('/readyz', baseUrl);
    try {
      const answer = await this.relayService.dispatchers.direct.request({
        origin: url.origin,
        path: url.pathname,
        method: 'GET',
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      if (!readNames || answer.statusCode !== 200) {
        await answer.body.dump();
        return { statusCode: answer.statusCode, checkNames: undefined };
      }
      const body = await readBounded(answer.body, MAX_READINESS_BODY_BYTES);
      return { statusCode: answer.statusCode, checkNames: body === undefined ? undefined : readinessCheckNames(body) };
    } catch {
      return undefined;
    }
  }

  /** One log line when a service's provider names start to differ, change, or agree again; none otherwise. */
  private noteDifference(service: string, difference: string | undefined): void {
    const last = this.lastDifference.get(service);
    if (difference === last) {
      return;
    }
    this.lastDifference.set(service, difference);
    if (difference !== undefined) {
      this.logger.warn(`The ${service} and the gateway disagree on OpenAI-compatible providers: ${difference}`);
    } else if (last !== undefined) {
      this.logger.log(`The ${service} and the gateway agree on OpenAI-compatible providers again`);
    }
  }
}
