import { ConfigError, loadConfig } from './hub-config.js';

const base = { HUB_MASTER_KEY: 'k'.repeat(32) };

describe('loadConfig', () => {
  it('fills documented defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/exception_hub', redisUrl: 'redis://127.0.0.1:6379', port: 3000, roles: ['api', 'worker', 'scheduler'], keyPrefix: 'hub', dbSchema: 'public' });
  });
  it('leaves HUB_QUEUE_LOCK_MS unset unless given, so each queue keeps its own lock', () => {
    expect(loadConfig(base).queueLockMs).toBeUndefined();
    expect(loadConfig({ ...base, HUB_QUEUE_LOCK_MS: '' }).queueLockMs).toBeUndefined();
    expect(loadConfig({ ...base, HUB_QUEUE_LOCK_MS: '2000' }).queueLockMs).toBe(2000);
    expect(() => loadConfig({ ...base, HUB_QUEUE_LOCK_MS: '500' })).toThrow(/HUB_QUEUE_LOCK_MS/);
  });
  it('parses roles and treats empty strings as unset', () => {
    expect(loadConfig({ ...base, HUB_ROLES: 'worker, scheduler', PORT: '' }).roles).toEqual(['worker', 'scheduler']);
    expect(loadConfig({ ...base, PORT: '' }).port).toBe(3000);
  });
  it('names the setting and never echoes secrets', () => {
    expect(() => loadConfig({ ...base, HUB_ADMIN_KEY: 'short-secret' })).toThrow(new ConfigError('HUB_ADMIN_KEY must be at least 24 characters'));
    expect(() => loadConfig({ ...base, HUB_KEY_PREFIX: 'has space' })).toThrow(/HUB_KEY_PREFIX may hold letters.*\(got "has space"\)/);
    expect(() => loadConfig({ ...base, HUB_DB_SCHEMA: 'Robert"); DROP' })).toThrow(/HUB_DB_SCHEMA must be a lower-case PostgreSQL identifier/);
  });
});
