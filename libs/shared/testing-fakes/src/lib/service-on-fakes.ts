/** Anything a test starts and must close: a fake upstream, a Nest app. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Starts a service once its fakes are up; the result's `close` stops the service, then the fakes. When the
 * start fails the fakes are closed at once, so a failed beforeAll leaks no server.
 */
export async function startServiceOnFakes<S extends { app: Closable }>(
  fakes: readonly Closable[],
  start: () => Promise<S>,
): Promise<S & Closable> {
  const closeFakes = async (): Promise<void> => {
    await Promise.all(fakes.map((fake) => fake.close()));
  };
  try {
    const service = await start();
    const close = async (): Promise<void> => {
      await service.app.close();
      await closeFakes();
    };
    return { ...service, close };
  } catch (error) {
    await closeFakes();
    throw error;
  }
}
