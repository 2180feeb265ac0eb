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

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, ReadinessResult>;
}

/** How the checks combine: every check must pass, or (for an edge in front of several services) any. */
export type ReadinessPolicy = 'all' | 'any';

@Injectable()
export class ReadinessService {
  private readonly checks = new Map<string, ReadinessCheck>();
  /** Checks that must pass whatever the policy (the gateway's shared limit store: without it, no request is served). */
  private readonly required = new Set<string>();
  private policy: ReadinessPolicy = 'all';

  constructor(private readonly shutdown: ShutdownService) {}

  /** Adds a check; a `required` one must pass even under the `any` policy. */
  register(name: string, check: ReadinessCheck, options: { required?: boolean } = {}): void {
    this.checks.set(name, check);
    if (options.required === true) {
      this.required.add(name);
    }
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
    return { status: ok ? 'ready' : 'not_ready', checks: Object.fromEntries(entries) };
  }
}
