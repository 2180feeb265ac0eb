/**
 * The error of class `type` that `action` throws; throws itself when `action` throws nothing, and rethrows
 * anything else, so a test fails on the wrong error rather than reading its fields.
 */
export function thrownError<E extends Error>(action: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    action();
  } catch (error) {
    if (error instanceof type) {
      return error;
    }
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}
