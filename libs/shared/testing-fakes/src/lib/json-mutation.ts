import fc from 'fast-check';

/**
 * The value with the node that `steps` leads to replaced: each step picks a key of an object or an index of a
 * list (taken modulo their count); a path that runs out of nodes replaces the node it reached.
 */
export function replaceAt(value: unknown, steps: readonly number[], replacement: unknown): unknown {
  const [step, ...rest] = steps;
  if (step === undefined || typeof value !== 'object' || value === null) {
    return replacement;
  }
  const entries = Object.entries(value);
  const entry = entries[step % Math.max(1, entries.length)];
  if (entry === undefined) {
    return replacement;
  }
  const changed = replaceAt(entry[1], rest, replacement);
  return Array.isArray(value)
    ? (value as unknown[]).map((item, index) => (index === step % value.length ? changed : item))
    : { ...value, [entry[0]]: changed };
}

/**
 * JSON texts of provider events that are almost right: one of `bases` (valid events) with one node, at most
 * `maxDepth` levels down, replaced by any JSON value. Property tests feed these to a stream transformer, which
 * must answer each with chunks or an error item, never a throw.
 */
export function mutatedJson(bases: readonly unknown[], maxDepth: number): fc.Arbitrary<string> {
  return fc
    .record({
      base: fc.constantFrom(...bases),
      steps: fc.array(fc.nat(), { maxLength: maxDepth }),
      value: fc.jsonValue(),
    })
    .map(({ base, steps, value }) => JSON.stringify(replaceAt(base, steps, value)));
}
