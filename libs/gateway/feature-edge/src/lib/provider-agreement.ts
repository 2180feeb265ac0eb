import { z } from 'zod';

/** The part of a service's `/readyz` answer the gateway reads: the names of its checks. */
const readinessAnswerSchema = z.object({ checks: z.record(z.string(), z.unknown()) });

/** The names of the checks in a `/readyz` body, or undefined when the body is not a readiness report. */
export function readinessCheckNames(body: string): readonly string[] | undefined {
  try {
    const parsed = readinessAnswerSchema.safeParse(JSON.parse(body));
    return parsed.success ? Object.keys(parsed.data.checks) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What differs between the OpenAI-compatible names the gateway routes to a service and the names that service
 * serves (its `/readyz` lists one check per provider); undefined when they agree.
 */
export function providerNamesDifference(
  service: string,
  routed: readonly string[],
  served: readonly string[],
): string | undefined {
  const notServed = routed.filter((name) => !served.includes(name));
  const notRouted = served.filter((name) => !routed.includes(name));
  if (notServed.length === 0 && notRouted.length === 0) {
    return undefined;
  }
  const parts = [
    ...(notServed.length > 0 ? [`not served by the ${service}: ${notServed.join(', ')}`] : []),
    ...(notRouted.length > 0 ? [`not routed by the gateway: ${notRouted.join(', ')}`] : []),
  ];
  return `provider names differ: ${parts.join('; ')}`;
}
