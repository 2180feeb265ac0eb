import type { FakeHandler, FakeUpstream } from './fake-upstream';
import { Waiters } from './waiters';

/** The usage a provider call reported, as the provider pipeline returns it (the ledger's shape). */
export interface ContractUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens?: number;
  cacheWritePromptTokens?: number;
  reasoningTokens?: number;
}

/** The report a bridge's provider pipeline makes of each call (ProviderPipeline.onReport's). */
export interface ContractReport {
  usage: ContractUsage | undefined;
  /** The error the call ended on (its OpenAI code), when it did not complete. */
  error?: { code: string };
  /** Whether the client left before its answer was complete. */
  clientLeft: boolean;
}

/** One bridge under test, started against a fake upstream: its URL, its pipeline's report hook, its close. */
export interface ContractBridge {
  url: string;
  pipeline: { onReport(listener: (report: ContractReport) => void): () => void };
  close(): Promise<void>;
}

/** A streaming provider's frames, for the stream cases. */
export interface ContractStreamFrames {
  /** A complete provider stream of these text deltas. */
  textFrames(words: readonly string[]): string[];
  /** A provider stream with one text delta, then the provider's mid-stream error. */
  midStreamErrorFrames(word: string): string[];
}

/** A request the provider cannot serve, refused before any upstream call with a 400 naming `param`. */
export interface RefusedFeature {
  refused: { param: string };
}

/**
 * How a chat completions provider treats what it lacks; each declaration is a case of its own:
 * - `tools`: refused, or `'not sent'` (the definitions never reach the provider; the answer is text);
 * - `images`: refused;
 * - `usage`: `'not reported'` (the report's usage is undefined and no usage chunk is made up).
 */
export interface LackedFeatures {
  tools?: RefusedFeature | 'not sent';
  images?: RefusedFeature;
  usage?: 'not reported';
}

/** What a route that is not chat completions has no way to ask for (its body has no field for it). */
export type UnaskableFeature = 'streaming' | 'tools' | 'images';

/**
 * How a route that is not chat completions is asked and read (Bard: `{"prompt"}` in, a bare JSON string
 * out), and what its requests cannot ask for (with why): no case is made of those.
 */
export interface ContractDialect {
  /** The body of a plain text question whose answer mentions "Hello". */
  body(): unknown;
  /** The answer's text from its JSON body. */
  text(answer: unknown): string;
  cannotAsk: { readonly [Feature in UnaskableFeature]: string };
}

interface ContractFixtureBase {
  startUpstream(): Promise<FakeUpstream>;
  startBridge(upstreamUrl: string): Promise<ContractBridge>;
  chatPath: string;
  /** Client headers carrying a valid credential. */
  headers: Record<string, string>;
  /** The fake's route that answers chat calls, to script it. */
  chatRoute: { method: string; path: string | RegExp };
  /** The fake's own handler for that route, restored after each case. */
  defaultChat: FakeHandler;
  /** The provider's 429 (with `retry-after: 7`) before any answer. */
  rateLimited: FakeHandler;
  /** What the fake's own answers report (streamed and not); undefined for a provider that reports no usage. */
  usage: ContractUsage | undefined;
}

/** A provider served as OpenAI chat completions: it streams, and declares how it treats what it lacks. */
export interface ChatContractFixture extends ContractFixtureBase {
  model: string;
  streaming: ContractStreamFrames;
  lacks?: LackedFeatures;
}

/** A provider served on a route of its own shape (Bard's `POST /google/bard`). */
export interface DialectContractFixture extends ContractFixtureBase {
  dialect: ContractDialect;
}

/** What an adapter brings to the contract cases: its fake, its bridge, and its provider's frames. */
export type ProviderContractFixture = ChatContractFixture | DialectContractFixture;

/** A case waiting for the next report: how it gets it, and the timer that gives up on it. */
interface PendingReport {
  deliver(report: ContractReport): void;
  timer: NodeJS.Timeout;
}

/** How long a case waits for the report of its call. */
const REPORT_WAIT_MS = 5_000;

/**
 * Hands out the pipeline's call reports to the case waiting for the next one. A wait nobody awaited (its case
 * failed first) never rejects unhandled, and `clear` (after each case) drops the waits left with their timers.
 */
export class ContractReports {
  private waiting: PendingReport[] = [];
  private recorded = 0;
  private readonly counted = new Waiters();

  /** How many reports the pipeline made so far. */
  get count(): number {
    return this.recorded;
  }

  /** Called with each report the pipeline made. */
  record(report: ContractReport): void {
    this.recorded += 1;
    this.counted.changed();
    const pending = this.waiting.shift();
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.deliver(report);
    }
  }

  /** The next report of a call that ends (bounded: 5 s). */
  nextReport(): Promise<ContractReport> {
    const report = new Promise<ContractReport>((resolve, reject) => {
      const pending: PendingReport = {
        deliver: resolve,
        timer: setTimeout(() => {
          this.waiting = this.waiting.filter((other) => other !== pending);
          reject(new Error('no call report within 5 s'));
        }, REPORT_WAIT_MS),
      };
      this.waiting.push(pending);
    });
    // A case that failed before awaiting its report must not leave a rejection nobody handles.
    report.catch(() => undefined);
    return report;
  }

  /** The usage of the next call that ends (bounded: 5 s). */
  next(): Promise<ContractUsage | undefined> {
    const usage = this.nextReport().then((report) => report.usage);
    usage.catch(() => undefined);
    return usage;
  }

  /**
   * Resolves once `count` reports were made in all (bounded: 5 s): a call's report can come after its client
   * read the end (claude.ai's `finish` deletes the conversation first), and must not reach the next case.
   */
  async reached(count: number): Promise<void> {
    await this.counted.until(
      () => (this.recorded >= count ? true : undefined),
      REPORT_WAIT_MS,
      `${count} call reports`,
    );
  }

  /** Drops the waits still pending (their cases are over) and their timers; they never settle. */
  clear(): void {
    for (const pending of this.waiting) {
      clearTimeout(pending.timer);
    }
    this.waiting = [];
  }
}

/** What each case runs against: the fake upstream, the bridge's URL, and its reports. */
export interface ContractContext {
  upstream: FakeUpstream;
  url: string;
  reports: ContractReports;
}

export interface ContractCase {
  name: string;
  run(context: ContractContext): Promise<void>;
}
