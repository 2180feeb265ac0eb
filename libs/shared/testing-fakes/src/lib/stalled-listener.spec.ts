import { connect } from 'node:net';
import { StalledListener } from './stalled-listener';

/** What a connect to `port` came to within `waitMs`: connected, refused (or another error), or still pending. */
function connectOutcome(port: number, waitMs: number): Promise<'connected' | 'failed' | 'pending'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const settle = (outcome: 'connected' | 'failed' | 'pending'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle('pending'), waitMs);
    socket.once('connect', () => settle('connected'));
    socket.once('error', () => settle('failed'));
  });
}

describe(StalledListener.name, () => {
  it('should leave a connect to its port pending, neither accepted nor refused', async () => {
    const listener = await StalledListener.start();
    try {
      expect(listener.url).toBe(`http://127.0.0.1:${listener.port}`);
      expect(await connectOutcome(listener.port, 1_500)).toBe('pending');
    } finally {
      await listener.close();
    }
  });

  it('should free its port on close, so that a connect there is refused', async () => {
    const listener = await StalledListener.start();
    await listener.close();
    expect(await connectOutcome(listener.port, 1_500)).toBe('failed');
  });
});
