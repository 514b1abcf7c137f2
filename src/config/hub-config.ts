import { z } from 'zod';

/**
 * The hub's whole configuration, read once from the environment at start.
 * Nothing else in the code base reads process.env: modules receive HubConfig.
 */
const ROLES = ['api', 'worker', 'scheduler'] as const;
export type HubRole = (typeof ROLES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
  );

const ENV_SCHEMA = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/exception_hub'),
  HUB_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
    .default('public'),
  HUB_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  HUB_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'may hold letters, digits and _ . : - only')
    .default('hub'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  HUB_ROLES: z
    .string()
    .default('api,worker,scheduler')
    .transform((v) => v.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES)).min(1, 'name at least one role')),
  HUB_MASTER_KEY: z
    .string({ message: 'is required: 32+ random characters used to encrypt connector secrets (e.g. `openssl rand -base64 32`)' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)'),
  HUB_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  HUB_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(512 * 1024 * 1024).default(1024 * 1024),
  HUB_MAX_FILE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(100 * 1024 * 1024),
  HUB_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  HUB_INGEST_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(250),
  HUB_ENQUEUE_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(10),
  HUB_PIPELINE_SCOOP_ROUNDS: z.coerce.number().int().min(1).max(16).default(2),
  HUB_PIPELINE_JOB_BYTES: z.coerce.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(1024 * 1024),
  HUB_PIPELINE_INFLIGHT_BYTES: z.coerce.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(2 * 1024 * 1024),
  // No default: unset, each queue keeps its policy's lock (src/queues/queue-policy.ts); a default here
  // would have overridden every queue's lock with one value.
  HUB_QUEUE_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).optional(),
  HUB_PIPELINE_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  HUB_PIPELINE_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  HUB_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  HUB_WATCH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  HUB_POLL_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  HUB_POLL_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  HUB_TEST_POLL_PAUSE: z.string().regex(/^[a-z-]+:\d+$/, 'must be <checkpoint>:<milliseconds>, e.g. ingested:30000 (tests only)').optional(),
  HUB_MAPPINGS_DIR: z.string().default('mappings'),
  HUB_POLICIES_DIR: z.string().default('policies'),
  /** The triage classifier trained by `npm run build` (scripts/train-triage.ts). */
  HUB_TRIAGE_MODEL: z.string().default('dist/triage-model.json'),
  /** Free text whose suggested code has at least this confidence is routed at once; below, a person reviews it. */
  HUB_TRIAGE_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.7),
  HUB_CONNECTORS_DIR: z.string().default('config/connectors'),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUB_DOCS: bool.default(true),
  HUB_MIGRATE_ON_START: bool.default(false),
  /** Tests only: SLA code reads a settable clock instead of the system time. */
  HUB_TEST_CLOCK: bool.default(false),
  NODE_ENV: z.string().optional(),
  HUB_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(15),
  HUB_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  HUB_DELIVERY_MAX_BACKOFF_MS: z.coerce.number().int().min(10).max(86_400_000).default(4 * 3_600_000),
  HUB_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  HUB_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(32),
  HUB_DELIVERY_DISABLE_AFTER_DAYS: z.coerce.number().min(0.00001).max(365).default(5),
  HUB_DELIVERY_ALLOW_HTTP: bool.default(false),
  HUB_DELIVERY_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be a comma-separated list of CIDR ranges such as 127.0.0.1/32,10.1.0.0/16'))),
  HUB_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  HUB_AUDIT_SEAL_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(1000),
  HUB_RAW_RETENTION_DAYS: z.coerce.number().min(0).max(36500).default(0),
  HUB_SSE_KEEPALIVE_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
});

export type HubConfig = {
  databaseUrl: string;
  dbSchema: string;
  dbPoolSize: number;
  redisUrl: string;
  keyPrefix: string;
  port: number;
  host: string;
  roles: HubRole[];
  masterKey: string;
  adminKey?: string;
  maxBodyBytes: number;
  /** Limit for raw file-style messages (X12 interchanges posted to /v1/connectors/{id}/messages). */
  maxFileBytes: number;
  /** Unset: the pipeline queue's policy (QUEUE_POLICY) decides. */
  workerConcurrency?: number;
  ingestBatchMax: number;
  /** Accept commits within this many ms share pipeline jobs (src/ingestion/pipeline-handoff.ts); 0 = a job per commit. */
  enqueueLingerMs: number;
  /** Scooping pipeline transactions one worker process runs at once (src/ingestion/scoop-rounds.ts). */
  pipelineScoopRounds: number;
  /** Most raw bytes of messages in one pipeline job (a larger message goes alone); see src/ingestion/pipeline-jobs.ts. */
  pipelineJobBytes: number;
  /** Raw bytes of pipeline jobs one worker process holds at once (a larger job runs alone). */
  pipelineInflightBytes: number;
  /**
   * HUB_QUEUE_LOCK_MS: when set, the job lock of the pipeline, sla-timers and case-actions workers
   * (queue-policy.ts workerLock); unset, each keeps its policy's lock.
   */
  queueLockMs?: number;
  pipelineAttempts: number;
  pipelineBackoffMs: number;
  sweepIntervalMs: number;
  /** How often connectors' watches run (overdue acknowledgments ...). */
  watchIntervalMs: number;
  /** How often the scheduler looks for polling connectors that are due (each has its own interval). */
  pollTickMs: number;
  /** A poll's lease; renewed while it runs, so a killed process's instance is polled again after this long. */
  pollLeaseMs: number;
  /** Tests only: pause a poll at a named checkpoint (crash tests). */
  testPollPause?: { checkpoint: string; ms: number };
  mappingsDir: string;
  policiesDir: string;
  triageModel: string;
  triageMinConfidence: number;
  connectorsDir: string;
  logLevel: string;
  docs: boolean;
  migrateOnStart: boolean;
  /** HUB_TEST_CLOCK: SLA code uses a settable clock (tests). */
  testClock: boolean;
  /** Outbound webhooks to subscribers (src/delivery). */
  delivery: {
    attempts: number;
    backoffMs: number;
    maxBackoffMs: number;
    timeoutMs: number;
    concurrency: number;
    disableAfterDays: number;
    /** Plain http:// endpoints allowed (loopback/test set-ups); otherwise https only. */
    allowHttp: boolean;
    /** CIDR ranges exempt from the private/link-local refusal. */
    allowedNetworks: string[];
    relayIntervalMs: number;
    sseKeepAliveMs: number;
  };
  auditSealIntervalMs: number;
  /** Days raw payloads of processed messages are kept; 0 keeps them forever. */
  rawRetentionDays: number;
};

/** A configuration problem, phrased for one line on stderr: the setting and how to fix it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const parsed = ENV_SCHEMA.safeParse(
    // Empty strings mean "unset" for every setting, as in most shells' `FOO= cmd`.
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    const given = env[name];
    const secret = /MASTER_KEY|ADMIN_KEY|SECRET|PASSWORD/.test(name);
    const shown = given === undefined || secret ? '' : ` (got "${name.endsWith('_URL') ? redactUrl(given) : given}")`;
    throw new ConfigError(`${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  if (e.HUB_TEST_CLOCK && e.NODE_ENV === 'production') {
    throw new ConfigError('HUB_TEST_CLOCK must not be set when NODE_ENV=production; it lets tests move SLA time');
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dbSchema: e.HUB_DB_SCHEMA,
    dbPoolSize: e.HUB_DB_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    keyPrefix: e.HUB_KEY_PREFIX,
    port: e.PORT,
    host: e.HOST,
    roles: [...new Set(e.HUB_ROLES)],
    masterKey: e.HUB_MASTER_KEY,
    adminKey: e.HUB_ADMIN_KEY,
    maxBodyBytes: e.HUB_MAX_BODY_BYTES,
    maxFileBytes: e.HUB_MAX_FILE_BYTES,
    workerConcurrency: e.HUB_WORKER_CONCURRENCY,
    ingestBatchMax: e.HUB_INGEST_BATCH_MAX,
    pipelineScoopRounds: e.HUB_PIPELINE_SCOOP_ROUNDS,
    enqueueLingerMs: e.HUB_ENQUEUE_LINGER_MS,
    pipelineJobBytes: e.HUB_PIPELINE_JOB_BYTES,
    pipelineInflightBytes: e.HUB_PIPELINE_INFLIGHT_BYTES,
    queueLockMs: e.HUB_QUEUE_LOCK_MS,
    pipelineAttempts: e.HUB_PIPELINE_ATTEMPTS,
    pipelineBackoffMs: e.HUB_PIPELINE_BACKOFF_MS,
    sweepIntervalMs: e.HUB_SWEEP_INTERVAL_MS,
    watchIntervalMs: e.HUB_WATCH_INTERVAL_MS,
    pollTickMs: e.HUB_POLL_TICK_MS,
    pollLeaseMs: e.HUB_POLL_LEASE_MS,
    testPollPause: e.HUB_TEST_POLL_PAUSE ? { checkpoint: e.HUB_TEST_POLL_PAUSE.split(':')[0], ms: Number(e.HUB_TEST_POLL_PAUSE.split(':')[1]) } : undefined,
    mappingsDir: e.HUB_MAPPINGS_DIR,
    policiesDir: e.HUB_POLICIES_DIR,
    triageModel: e.HUB_TRIAGE_MODEL,
    triageMinConfidence: e.HUB_TRIAGE_MIN_CONFIDENCE,
    connectorsDir: e.HUB_CONNECTORS_DIR,
    logLevel: e.HUB_LOG_LEVEL,
    docs: e.HUB_DOCS,
    migrateOnStart: e.HUB_MIGRATE_ON_START,
    testClock: e.HUB_TEST_CLOCK,
    delivery: {
      attempts: e.HUB_DELIVERY_ATTEMPTS,
      backoffMs: e.HUB_DELIVERY_BACKOFF_MS,
      maxBackoffMs: e.HUB_DELIVERY_MAX_BACKOFF_MS,
      timeoutMs: e.HUB_DELIVERY_TIMEOUT_MS,
      concurrency: e.HUB_DELIVERY_CONCURRENCY,
      disableAfterDays: e.HUB_DELIVERY_DISABLE_AFTER_DAYS,
      allowHttp: e.HUB_DELIVERY_ALLOW_HTTP,
      allowedNetworks: e.HUB_DELIVERY_ALLOWED_NETWORKS,
      relayIntervalMs: e.HUB_RELAY_INTERVAL_MS,
      sseKeepAliveMs: e.HUB_SSE_KEEPALIVE_MS,
    },
    auditSealIntervalMs: e.HUB_AUDIT_SEAL_INTERVAL_MS,
    rawRetentionDays: e.HUB_RAW_RETENTION_DAYS,
  };
}

/** Injection token for HubConfig. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** Redacts credentials from a connection URL before it is shown to anyone. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw;
  }
}
