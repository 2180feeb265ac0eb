import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { carryOut } from './fault-answer';
import { type FaultPlan, jsonAnswer } from './fault-plans';
import { FakeUpstream, type RecordedRequest } from './fake-upstream';
import { DEFAULT_WAIT_MS, Waiters } from './waiters';

/** What a fault upstream recorded for one request: the request as it arrived, the plan it got, what followed. */
export interface FaultRecord {
  /** Method, path, headers, body and its SHA-256, arrival time; when its answer closed, and whether unfinished. */
  request: RecordedRequest;
  bodyBytes: number;
  plan: FaultPlan;
  /** The TCP connection that carried it: 1 for the first one the fake saw (0 when it was gone on arrival). */
  connection: number;
  /** Its place on that connection: 1 on a fresh connection, more on a reused one. */
  requestOnConnection: number;
  headersSentAt: number | undefined;
  /** The body bytes of each write handed to the socket, in order. */
  writes: number[];
  /** When its TCP connection closed: for a kept-alive connection maybe long after the answer. */
  socketClosedAt: number | undefined;
}

/** How a fault upstream treats its connections, whatever the plans. */
export interface FaultUpstreamOptions {
  /**
   * Closes a connection idle this long after an answer while the answers still advertise Node's
   * `Keep-Alive: timeout=5`: a server whose keep-alive is shorter than its clients believe.
   */
  keepAliveTimeoutMs?: number;
}

/** The plan a request gets when the test queued none: a 200 JSON answer. */
const DEFAULT_PLAN: FaultPlan = jsonAnswer(200, { ok: true });

interface ConnectionState {
  ordinal: number;
  requests: number;
  records: FaultRecord[];
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) that answers each request with the fault the test chose for it: the
 * next queued plan (`next`), else the test's choice for that request (`otherwise`), else a 200 JSON answer.
 * Records every request (arrival, headers, body digest and size, what was written, when its socket closed).
 * Bounded: `close()` stops every wait, clears every timer and destroys every socket.
 */
export class FaultUpstream {
  readonly records: FaultRecord[] = [];
  private readonly queue: FaultPlan[] = [];
  private choose: (request: RecordedRequest) => FaultPlan = () => DEFAULT_PLAN;
  private readonly connections = new Map<Socket, ConnectionState>();
  /** The answers in progress, each with the controller that stops it. */
  private readonly answering = new Map<AbortController, Promise<void>>();
  private readonly waiters = new Waiters();
  private connectionCount = 0;
  private closing = false;

  private constructor(
    /** The recording server the faults run on, for helpers that take a FakeUpstream (e.g. leaveWhileStalled). */
    readonly upstream: FakeUpstream,
    private readonly options: FaultUpstreamOptions,
  ) {}

  static async start(options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
    const fault = new FaultUpstream(await FakeUpstream.start(), options);
    fault.upstream.on('*', /^/, (request, response) => fault.answer(request, response));
    return fault;
  }

  /** Where it listens: `http://127.0.0.1:<port>`. */
  get url(): string {
    return this.upstream.url;
  }

  /** Requests whose head arrived, their body finished or not (FakeUpstream.arrivals). */
  get arrivals(): number {
    return this.upstream.arrivals;
  }

  /** TCP connections open now. */
  get openConnections(): number {
    return this.upstream.openConnections;
  }

  /** Queues plans for the next requests, one each, in arrival order. */
  next(...plans: FaultPlan[]): this {
    this.queue.push(...plans);
    return this;
  }

  /** What a request gets when the queue is empty: one plan for all, or a plan chosen from the request. */
  otherwise(choice: FaultPlan | ((request: RecordedRequest) => FaultPlan)): this {
    this.choose = typeof choice === 'function' ? choice : () => choice;
    return this;
  }

  /** Resolves when the probe returns a value, checked on every event the fake records (bounded wait). */
  waitFor<T>(probe: () => T | undefined, timeoutMs = DEFAULT_WAIT_MS, what = 'condition'): Promise<T> {
    return this.waiters.until(probe, timeoutMs, what);
  }

  /** Resolves with the `index`th request's record once it arrived (bounded wait). */
  waitForRecord(index = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<FaultRecord> {
    return this.waitFor(() => this.records[index], timeoutMs, `request ${index}`);
  }

  /** Resolves with the time the record's TCP connection closed (bounded wait). */
  waitForSocketClose(record: FaultRecord, timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return this.waitFor(() => record.socketClosedAt, timeoutMs, 'the socket to close');
  }

  /**
   * Stops every answer (its waits and timers) and waits for it to end, then destroys every socket; resolves once
   * each connection that carried a request has closed (so every record has its `socketClosedAt`).
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const stop of this.answering.keys()) {
      stop.abort();
    }
    await Promise.allSettled(this.answering.values());
    for (const state of this.connections.values()) {
      clearTimeout(state.idleTimer);
    }
    const closed = [...this.connections.keys()].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    await this.upstream.close();
    await Promise.all(closed);
  }

  private async answer(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const plan = this.queue.shift() ?? this.choose(request);
    const record = this.record(request, plan, response);
    const stop = new AbortController();
    response.once('close', () => {
      stop.abort();
      this.waiters.changed();
    });
    const answered = carryOut(plan, response, {
      signal: stop.signal,
      headersSent: () => {
        record.headersSentAt = Date.now();
        this.waiters.changed();
      },
      wrote: (bytes) => {
        record.writes.push(bytes);
        this.waiters.changed();
      },
    }).finally(() => this.answering.delete(stop));
    this.answering.set(stop, answered);
    await answered;
  }

  private record(request: RecordedRequest, plan: FaultPlan, response: ServerResponse): FaultRecord {
    const socket = response.socket !== null && !response.socket.closed ? response.socket : undefined;
    const state = socket === undefined ? undefined : this.connectionOf(socket);
    const record: FaultRecord = {
      request,
      bodyBytes: request.body.length,
      plan,
      connection: state?.ordinal ?? 0,
      requestOnConnection: state === undefined ? 0 : ++state.requests,
      headersSentAt: undefined,
      writes: [],
      socketClosedAt: state === undefined ? Date.now() : undefined,
    };
    if (socket !== undefined && state !== undefined) {
      clearTimeout(state.idleTimer);
      state.records.push(record);
      response.once('finish', () => this.closeWhenIdle(socket, state));
    }
    this.records.push(record);
    this.waiters.changed();
    return record;
  }

  private connectionOf(socket: Socket): ConnectionState {
    const known = this.connections.get(socket);
    if (known !== undefined) {
      return known;
    }
    this.connectionCount += 1;
    const state: ConnectionState = { ordinal: this.connectionCount, requests: 0, records: [], idleTimer: undefined };
    this.connections.set(socket, state);
    socket.once('close', () => {
      clearTimeout(state.idleTimer);
      const closedAt = Date.now();
      for (const record of state.records) {
        record.socketClosedAt = closedAt;
      }
      this.connections.delete(socket);
      this.waiters.changed();
    });
    return state;
  }

  private closeWhenIdle(socket: Socket, state: ConnectionState): void {
    const timeoutMs = this.options.keepAliveTimeoutMs;
    if (timeoutMs === undefined || this.closing || socket.destroyed) {
      return;
    }
    state.idleTimer = setTimeout(() => socket.destroy(), timeoutMs);
  }
}
