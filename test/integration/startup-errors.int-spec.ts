import { spawnSync } from 'node:child_process';
import { newWorld, type TestWorld } from '../support/hub-harness.js';

/** The built hub (dist/) started with bad settings prints one clear line and exits non-zero. */
describe('startup and configuration errors', () => {
  let world: TestWorld;
  beforeAll(() => {
    world = newWorld();
  });
  afterAll(async () => {
    // The "schema behind" case leaves its empty schema behind.
    await world.db.query(`DROP SCHEMA IF EXISTS "${world.schema}_empty" CASCADE`);
    await world.drop();
  });

  const run = (env: Record<string, string | undefined>, args = ['start']) => {
    const merged = { PATH: process.env.PATH ?? '', ...world.env, ...env };
    const clean = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const r = spawnSync(process.execPath, ['dist/src/main.js', ...args], { env: clean, encoding: 'utf8', timeout: 30000 });
    const stderr = r.stderr.trim();
    return { code: r.status, stderr, lines: stderr.split('\n').filter(Boolean) };
  };

  const expectOneLine = (r: ReturnType<typeof run>, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it.each([
    ['missing master key', { HUB_MASTER_KEY: undefined }, /^exception-hub: HUB_MASTER_KEY is required: .*openssl rand/],
    ['short master key', { HUB_MASTER_KEY: 'short' }, /^exception-hub: HUB_MASTER_KEY must be at least 32 characters/],
    ['non-numeric port', { PORT: 'eighty' }, /^exception-hub: PORT .*got "eighty"/],
    ['unknown role', { HUB_ROLES: 'api,reporting' }, /^exception-hub: HUB_ROLES.*(api|worker|scheduler)/],
    ['not a database URL', { DATABASE_URL: 'mysql://localhost/db' }, /^exception-hub: DATABASE_URL must be a URL starting with postgres:\/\//],
    ['bad log level', { HUB_LOG_LEVEL: 'loud' }, /^exception-hub: HUB_LOG_LEVEL/],
  ])('%s', (_name, env, pattern) => {
    expectOneLine(run(env), pattern);
  });

  it('names PostgreSQL and DATABASE_URL when the database is unreachable', () => {
    const r = run({ DATABASE_URL: 'postgres://postgres:secretpw@127.0.0.1:1/test' });
    expectOneLine(r, /cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test \(DATABASE_URL\): ECONNREFUSED; start PostgreSQL or fix DATABASE_URL/);
    expect(r.stderr).not.toMatch(/secretpw/);
  });

  it('names Redis and REDIS_URL when Redis is unreachable', () => {
    expectOneLine(run({ REDIS_URL: 'redis://127.0.0.1:1' }), /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\): .*start Redis or fix REDIS_URL/);
  });

  it('asks for migrations when the schema is behind and migrations are not run on start', () => {
    expectOneLine(run({ HUB_MIGRATE_ON_START: 'false', HUB_DB_SCHEMA: `${world.schema}_empty` }), /is not up to date; run `npm run migrate`/);
  });

  it('names the connector file and setting when a declaration is broken', () => {
    expectOneLine(run({ HUB_CONNECTORS_DIR: 'test/fixtures/broken-connectors' }), /test\/fixtures\/broken-connectors\/bad-secret\.json: environment variable NO_SUCH_SECRET_VAR is not set/);
  });

  it('names the mapping file when a mapping does not compile', () => {
    expectOneLine(run({ HUB_MAPPINGS_DIR: 'test/fixtures/broken-mappings' }), /broken-mappings\/wms-webhook\/1\.0\.0\/transform\.jsonata: .* at position \d+/);
  });

  it('migrate applies migrations and reports when there is nothing to do', () => {
    const schema = `${world.schema}_m`;
    const first = spawnSync(process.execPath, ['dist/src/main.js', 'migrate'], { env: { PATH: process.env.PATH ?? '', ...world.env, HUB_DB_SCHEMA: schema }, encoding: 'utf8' });
    expect(first.stdout).toMatch(/applied migrations: Initial/);
    const second = spawnSync(process.execPath, ['dist/src/main.js', 'migrate'], { env: { PATH: process.env.PATH ?? '', ...world.env, HUB_DB_SCHEMA: schema }, encoding: 'utf8' });
    expect(second.stdout).toMatch(/up to date/);
    return world.db.query(`DROP SCHEMA "${schema}" CASCADE`);
  });

  it('scripts/start-hub.sh starts node with its default flags (each passed as its own argument)', () => {
    // A broken connector file fails after node has accepted the flags and loaded the hub: the same one line.
    const env = { PATH: process.env.PATH ?? '', ...world.env, HUB_CONNECTORS_DIR: 'test/fixtures/broken-connectors' };
    delete (env as Record<string, string | undefined>).HUB_NODE_FLAGS;
    const r = spawnSync('sh', ['scripts/start-hub.sh', 'start'], { env, encoding: 'utf8', timeout: 30000 });
    expect(r.stderr).not.toMatch(/bad option/);
    expect(r.stderr.trim()).toMatch(/^exception-hub: .*NO_SUCH_SECRET_VAR is not set/);
    expect(r.status).not.toBe(0);
    // And HUB_NODE_FLAGS replaces them: a flag node refuses shows it was used.
    const bad = spawnSync('sh', ['scripts/start-hub.sh', 'start'], { env: { ...env, HUB_NODE_FLAGS: '--no-such-node-flag' }, encoding: 'utf8', timeout: 30000 });
    expect(bad.stderr).toMatch(/bad option: --no-such-node-flag/);
  });
});
