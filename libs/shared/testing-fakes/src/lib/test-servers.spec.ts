import { Client } from 'pg';
import { connect } from 'node:net';
import { createTestPostgresDatabase, startRedisServer, testPostgresUrl, testRedisUrl } from './test-servers';

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

  it('should create a database of its own on the run-wide PostgreSQL and drop it with a client still on it', async () => {
    const database = await createTestPostgresDatabase();
    const name = new URL(database.url).pathname.slice(1);
    expect(name).toMatch(/^team_[0-9a-f]{12}$/);
    const client = new Client({ connectionString: database.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const result = await client.query<{ name: string }>('select current_database() as name');
      expect(result.rows[0]?.name).toBe(name);
      await database.drop();
      await expect(client.query('select 1')).rejects.toThrow();
    } finally {
      await client.end().catch(() => undefined);
    }
    const again = new Client({ connectionString: database.url });
    await expect(again.connect()).rejects.toThrow(`database "${name}" does not exist`);
    await again.end().catch(() => undefined);
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
