import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplicationContext } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { ConfigError, redactUrl, type HubConfig } from './config/hub-config.js';
import { jsonProblem } from './connectors/json-problem.js';
import { createDataSource, migrate } from './database/data-source.js';
import { HubErrorFilter } from './http/error.filter.js';
import { createLogger, NestPinoLogger } from './observability/hub-logger.js';
import { Redis } from 'ioredis';
import { redisConnection } from './queues/redis-connection.js';

export interface RunningHub {
  app: INestApplicationContext;
  url?: string;
  close(): Promise<void>;
}

/** Routes whose connectors read the raw bytes themselves (signatures are computed over them). */
const RAW_ROUTES = /^\/v1\/(webhooks\/|connectors\/[^/]+\/messages)/;
/** Routes that take whole files (X12 interchanges): HUB_MAX_FILE_BYTES applies instead of HUB_MAX_BODY_BYTES. */
const FILE_ROUTES = /^\/v1\/connectors\/[^/]+\/messages/;

/**
 * Starts the hub with the given roles. Dependencies are checked first so that a missing
 * PostgreSQL, Redis or migration is one clear ConfigError, not a stack trace from deep inside Nest.
 */
export async function startHub(cfg: HubConfig, logger: Logger = createLogger(cfg.logLevel)): Promise<RunningHub> {
  await preflight(cfg, logger);
  const module = AppModule.forConfig(cfg, logger);
  const nestLogger = new NestPinoLogger(logger.child({ context: 'nest' }));

  if (!cfg.roles.includes('api')) {
    const ctx = await NestFactory.createApplicationContext(module, { logger: nestLogger, abortOnError: false });
    ctx.enableShutdownHooks();
    logger.info({ roles: cfg.roles }, 'exception hub started');
    return { app: ctx, close: () => ctx.close() };
  }

  const adapter = new FastifyAdapter({ bodyLimit: cfg.maxBodyBytes, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger: nestLogger, abortOnError: false, bodyParser: false });
  app.enableShutdownHooks();
  app.useGlobalFilters(new HubErrorFilter(logger, { body: cfg.maxBodyBytes, file: cfg.maxFileBytes, fileRoutes: FILE_ROUTES }));
  installBodyParsers(app.getHttpAdapter().getInstance() as unknown as FastifyInstance, cfg.maxBodyBytes, cfg.maxFileBytes);
  if (cfg.docs) {
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Exception Hub API')
        .setDescription('Canonical exceptions, cases, connectors and messages. Authenticate with `Authorization: Bearer <API key>`.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, doc);
  }
  try {
    await app.listen({ port: cfg.port, host: cfg.host });
  } catch (e) {
    // A module that fails to initialise (bad config file, port taken) must not leave pools and timers open behind it.
    await app.close().catch(() => undefined);
    throw e;
  }
  const url = await app.getUrl();
  logger.info({ roles: cfg.roles, url: url.replace('[::1]', 'localhost') }, 'exception hub started');
  return { app, url: url.replace('[::1]', '127.0.0.1'), close: () => app.close() };
}

/**
 * Bodies are read as raw bytes, kept on req.rawBody. Webhook routes hand the bytes to their
 * connector; every other route gets parsed JSON, or a 400 naming where the JSON breaks.
 */
function installBodyParsers(fastify: FastifyInstance, bodyLimit: number, fileLimit: number) {
  fastify.removeAllContentTypeParsers();
  // File routes get the larger limit on the route itself, so other routes never buffer big bodies.
  fastify.addHook('onRoute', (route) => {
    if (FILE_ROUTES.test(route.url)) route.bodyLimit = fileLimit;
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    if (RAW_ROUTES.test(req.url)) return done(null, undefined);
    if (body.length === 0) return done(null, undefined);
    if (!/json/i.test(req.headers['content-type'] ?? '')) {
      const err = Object.assign(new Error('send JSON with content-type application/json'), { statusCode: 415 });
      return done(err, undefined);
    }
    const problem = jsonProblem(body);
    if (problem) return done(Object.assign(new Error(problem.reason), { statusCode: 400 }), undefined);
    done(null, JSON.parse(body.toString('utf8')));
  });
}

async function preflight(cfg: HubConfig, logger: Logger) {
  const ds = createDataSource({ ...cfg, dbPoolSize: 1 });
  try {
    await ds.initialize();
  } catch (e) {
    throw new ConfigError(
      `cannot reach PostgreSQL at ${redactUrl(cfg.databaseUrl)} (DATABASE_URL): ${describeError(e)}; start PostgreSQL or fix DATABASE_URL`,
    );
  }
  try {
    if (cfg.migrateOnStart) {
      const applied = await migrate(ds, cfg.dbSchema);
      if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
    } else {
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${cfg.dbSchema}"`).catch(() => undefined);
      if (await ds.showMigrations()) {
        throw new ConfigError(`database schema "${cfg.dbSchema}" at ${redactUrl(cfg.databaseUrl)} is not up to date; run \`npm run migrate\` (or set HUB_MIGRATE_ON_START=true)`);
      }
    }
  } finally {
    await ds.destroy();
  }
  const redis = new Redis({ ...redisConnection(cfg.redisUrl, { worker: false }), enableOfflineQueue: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 5 s')), 5000).unref()),
    ]);
  } catch (e) {
    throw new ConfigError(`cannot reach Redis at ${redactUrl(cfg.redisUrl)} (REDIS_URL): ${describeError(e)}; start Redis or fix REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

function describeError(e: unknown): string {
  const err = e as { code?: string; message?: string; errors?: { code?: string; message?: string }[] };
  const inner = err.errors?.[0];
  return (inner?.code ?? err.code ?? inner?.message ?? err.message ?? String(e)).toString();
}
