import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { Logger } from 'pino';
import { AuditChain } from '../audit/audit-chain.service.js';
import { CasesModule } from '../cases/cases.module.js';
import { HUB_CONFIG, type HubConfig, type HubRole } from '../config/hub-config.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QueueName } from '../queues/queue-policy.js';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveryLedger } from './delivery-ledger.service.js';
import { DeliveryQueue, DeliveryWorker } from './delivery.worker.js';
import { EventFeed } from './event-feed.service.js';
import { EventsController } from './events.controller.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { SubscriptionsController } from './subscriptions.controller.js';
import { Subscriptions } from './subscriptions.service.js';

/** Role scheduler: re-queues deliveries whose job Redis lost, and seals the audit chain. */
@Injectable()
class PublishSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timers: NodeJS.Timeout[] = [];
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly queue: DeliveryQueue,
    private readonly chain: AuditChain,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}
  onApplicationBootstrap() {
    this.timers.push(
      setInterval(() => {
        this.ledger
          .overdue(2000)
          .then((rows) => this.queue.add(rows))
          .catch((e) => this.log.warn({ err: (e as Error).message }, 'delivery sweep failed; will retry'));
      }, this.cfg.sweepIntervalMs),
      setInterval(() => {
        this.chain.seal().catch((e) => this.log.warn({ err: (e as Error).message }, 'audit sealing failed; will retry'));
      }, this.cfg.auditSealIntervalMs),
    );
  }
  onApplicationShutdown() {
    this.timers.forEach(clearInterval);
  }
}

/**
 * Publishing: the transactional outbox every change writes to, the pull feed and SSE stream over it,
 * subscriptions, the relay to the delivery queue, signed webhook delivery, the delivery log and replay.
 */
@Global()
@Module({})
export class DeliveryModule {
  static forRoles(roles: HubRole[]): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [BullModule.registerQueue({ name: QueueName.Delivery }), CasesModule],
      providers: [
        EventFeed,
        Subscriptions,
        DeliveryLedger,
        DeliveryQueue,
        OutboxRelay,
        ...(roles.includes('worker') ? [DeliveryWorker] : []),
        ...(roles.includes('scheduler') ? [PublishSchedule] : []),
      ],
      controllers: [EventsController, SubscriptionsController, DeliveriesController],
      exports: [EventFeed],
    };
  }
}
