import { ConfigError } from '@inner-talk/config';
import { loadMetricsEnv } from './env';

describe('metrics configuration', () => {
  it('needs only REDIS_URL', () => {
    expect(loadMetricsEnv({ REDIS_URL: 'rediss://cache.example:6380' })).toMatchObject({ METRICS_PORT: 9464 });
  });

  it('names a malformed REDIS_URL', () => {
    expect(() => loadMetricsEnv({ REDIS_URL: 'localhost:6379' })).toThrow(ConfigError);
    expect(() => loadMetricsEnv({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//);
  });
});
