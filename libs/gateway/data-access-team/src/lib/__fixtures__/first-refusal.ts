/** What `firstRefusal` saw: the first rejection (undefined: none came) and how many calls were served before it. */
export interface FirstRefusal {
  refusal: unknown;
  served: number;
}

/**
 * Calls `reserve` an event-loop turn apart until it rejects, at most `tries` times. A limiter learns that Redis
 * stopped from its connection's close event, a turn or so after the server went: a reservation served from a
 * lease in between is allowed, and `served` counts them.
 */
export async function firstRefusal(reserve: () => Promise<unknown>, tries: number): Promise<FirstRefusal> {
  let served = 0;
  while (served < tries) {
    const refusal = await reserve().then(
      () => undefined,
      (error: unknown) => error ?? new Error('rejected with nothing'),
    );
    if (refusal !== undefined) {
      return { refusal, served };
    }
    served += 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { refusal: undefined, served };
}
