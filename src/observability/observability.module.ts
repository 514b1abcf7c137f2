import { Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { QueueName } from '../queues/queue-policy.js';
import { HealthController } from './health.controller.js';
import { HubMetrics } from './hub-metrics.js';

/** Metrics, health probes. HubMetrics is global so every module can count what it does. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Pipeline })],
  providers: [HubMetrics],
  exports: [HubMetrics],
  controllers: [HealthController],
})
export class ObservabilityModule {}
