import { Injectable } from '@nestjs/common';
import { ShutdownService } from './shutdown.service';

export interface ReadinessResult {
  ok: boolean;
  detail?: string;
  /** The providers behind this check (the gateway lists each service's), as metrics name them. */
  providers?: readonly string[];
}

/** A named dependency check; a service adds its own in onModuleInit. */
export type ReadinessCheck = () => Promise<ReadinessResult>;

/** One circuit breaker as /readyz shows it. */
export interface BreakerView {
  state: 'closed' | 'half_open' | 'open';
  /** While open: whole seconds until one call may probe again. */
  retryAfterSeconds?: number;
}

/** The breakers of one section (`upstreams`, `keys`), each by a name that is never a credential. */
export type BreakerSource = () => Readonly<Record<string, BreakerView>>;

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, ReadinessResult>;
  /** The circuit breakers by section; shown, never judged (an open one does not make the service unready). */
  breakers?: Record<string, Readonly<Record<string, BreakerView>>>;
}

/** How the checks combine: every check must pass, or (for an edge in front of several services) any. */
export type ReadinessPolicy = 'all' | 'any';

@Injectable()
export class ReadinessService {
  private readonly checks = new Map<string, ReadinessCheck>();
  /** Checks that must pass whatever the policy (the gateway's shared limit store: without it, no request is served). */
  private readonly required = new Set<string>();
  private policy: ReadinessPolicy = 'all';
  private readonly breakers = new Map<string, BreakerSource>();

  constructor(private readonly shutdown: ShutdownService) {}

  /** Adds a check; a `required` one must pass even under the `any` policy. */
  register(name: string, check: ReadinessCheck, options: { required?: boolean } = {}): void {
    this.checks.set(name, check);
    if (options.required === true) {
      this.required.add(name);
    }
  }

  /** Shows the breakers `source` gives under `section` of the report (a later source for it replaces the first). */
  registerBreakers(section: string, source: BreakerSource): void {
    this.breakers.set(section, source);
  }

  setPolicy(policy: ReadinessPolicy): void {
    this.policy = policy;
  }

  async report(): Promise<ReadinessReport> {
    if (this.shutdown.isDraining) {
      return { status: 'shutting_down', checks: {} };
    }
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, ReadinessResult]> => {
        try {
          return [name, await check()];
        } catch {
          return [name, { ok: false, detail: 'check failed' }];
        }
      }),
    );
    const requiredOk = entries.every(([name, result]) => !this.required.has(name) || result.ok);
    const results = entries.filter(([name]) => !this.required.has(name)).map(([, result]) => result.ok);
    const othersOk = results.length === 0 || (this.policy === 'all' ? results.every(Boolean) : results.some(Boolean));
    const ok = requiredOk && othersOk;
    const report: ReadinessReport = { status: ok ? 'ready' : 'not_ready', checks: Object.fromEntries(entries) };
    if (this.breakers.size > 0) {
      report.breakers = Object.fromEntries([...this.breakers].map(([section, source]) => [section, source()]));
    }
    return report;
  }
}
