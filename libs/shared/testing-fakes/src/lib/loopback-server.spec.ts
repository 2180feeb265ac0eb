import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';

describe(listenOnLoopback.name, () => {
  it('should resolve with the URL and port it answers on when it listens', async () => {
    const server = createServer((_request, response) => response.end('here'));
    const address = await listenOnLoopback(server);
    try {
      expect(address.url).toBe(`http://127.0.0.1:${address.port}`);
      expect(await (await fetch(address.url)).text()).toBe('here');
    } finally {
      await closeServer(server);
    }
  });

  it('should reject when the server cannot listen', async () => {
    const server = createServer();
    await listenOnLoopback(server);
    try {
      await expect(listenOnLoopback(server)).rejects.toThrow();
    } finally {
      await closeServer(server);
    }
  });
});

describe(closeServer.name, () => {
  it('should resolve and stop listening when a keep-alive connection is still open', async () => {
    const server = createServer((_request, response) => response.end('kept'));
    const { url } = await listenOnLoopback(server);
    const kept = await fetch(url, { headers: { connection: 'keep-alive' } });
    await kept.text();
    await closeServer(server);
    expect(server.listening).toBe(false);
    expect(() => loopbackAddress(server)).toThrow('not listening');
  });
});
