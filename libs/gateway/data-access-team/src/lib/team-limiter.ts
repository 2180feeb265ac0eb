import { MemoryLimiter } from './memory-limiter';
import { RedisLimiter } from './redis-limiter';
import type { TeamLimiter } from './team-store.types';

/** Where the limits are kept: `redisUrl` (from `REDIS_URL`) shares them across replicas; without it, in process. */
export interface TeamLimiterOptions {
  redisUrl: string | undefined;
  now?: () => number;
}

/** The team limiter: Redis when a URL is given, in process otherwise. */
export function createTeamLimiter(options: TeamLimiterOptions): TeamLimiter {
  const { redisUrl, now } = options;
  return redisUrl === undefined || redisUrl === '' ? new MemoryLimiter({ now }) : new RedisLimiter({ redisUrl, now });
}
