import { Client } from 'pg';
import { connect } from 'node:net';
import { startRedisServer, testPostgresUrl, testRedisUrl } from './test-servers';

function redisCommand(url: string, command: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString('utf8').trim());
    });
    socket.once('error', reject);
  });
}

describe('test servers', () => {
  it('should give every test the run-wide PostgreSQL, which answers SQL', async () => {
    const client = new Client({ connectionString: testPostgresUrl() });
    await client.connect();
    try {
      const result = await client.query<{ answer: number }>('select 6 * 7 as answer');
      expect(result.rows[0]?.answer).toBe(42);
    } finally {
      await client.end();
    }
  });

  it('should give every test the run-wide Redis, which answers PING', async () => {
    await expect(redisCommand(testRedisUrl(), 'PING')).resolves.toBe('+PONG');
  });

  it('should start a Redis of its own that stops and starts again on the same port', async () => {
    const first = await startRedisServer();
    await first.stop();
    await expect(redisCommand(first.url, 'PING')).rejects.toThrow();
    const again = await startRedisServer(first.port);
    try {
      await expect(redisCommand(again.url, 'PING')).resolves.toBe('+PONG');
    } finally {
      await again.stop();
    }
  });
});
