import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Public } from '../auth/roles.decorator.js';
import { QueueName } from '../queues/queue-policy.js';
import { HubMetrics } from './hub-metrics.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms).unref())]);

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(QueueName.Pipeline) private readonly queue: Queue,
    private readonly metrics: HubMetrics,
  ) {}

  @Public()
  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  /** Ready when PostgreSQL and Redis both answer; 503 with the failing dependency otherwise. */
  @Public()
  @Get('health/ready')
  @HttpCode(200)
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const check = async (p: () => Promise<unknown>) => {
      try {
        await withTimeout(p(), 2000);
        return { status: 'ok' };
      } catch (e) {
        return { status: 'down', error: (e as Error).message };
      }
    };
    const [postgres, redis] = await Promise.all([
      check(() => this.ds.query('SELECT 1')),
      check(async () => ((await this.queue.client) as unknown as Redis).ping()),
    ]);
    const ok = postgres.status === 'ok' && redis.status === 'ok';
    if (!ok) reply.status(503);
    return { status: ok ? 'ok' : 'unavailable', postgres, redis };
  }

  @Public()
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  async prometheus() {
    try {
      const counts = await withTimeout(this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'), 1000);
      for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ queue: QueueName.Pipeline, state }, n);
    } catch {
      // Redis unavailable: queue depth keeps its last value; the readiness probe reports the outage.
    }
    return this.metrics.registry.metrics();
  }
}
