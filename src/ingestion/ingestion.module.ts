import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { Logger } from 'pino';
import type { HubRole } from '../config/hub-config.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { CasesModule } from '../cases/cases.module.js';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { DocumentsModule } from '../documents/documents.module.js';
import { EnrichmentModule } from '../enrichment/enrichment.module.js';
import { MappingModule } from '../mapping/mapping.module.js';
import { MatchingModule } from '../matching/matching.module.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QueueName } from '../queues/queue-policy.js';
import { RoutingModule } from '../routing/routing.module.js';
import { ConnectorMessagesController } from './connector-messages.controller.js';
import { ConnectorWatch } from './connector-watch.service.js';
import { Ingestion } from './ingestion.service.js';
import { MappingReplay } from './mapping-replay.service.js';
import { MappingReplayController } from './mapping-replay.controller.js';
import { MessageLedger } from './message-ledger.service.js';
import { MessagesController } from './messages.controller.js';
import { MessageInterpreter } from './message-interpreter.js';
import { Pipeline } from './pipeline.service.js';
import { RawRetention } from './raw-retention.service.js';
import { PipelineWorker } from './pipeline.worker.js';
import { PollAlarms } from './poll-alarms.service.js';
import { PollScheduler } from './poll-scheduler.service.js';
import { WebhooksController } from './webhooks.controller.js';

/** Runs the sweeper in processes with the scheduler role. */
@Injectable()
class SweepSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private watchTimer?: NodeJS.Timeout;
  constructor(
    private readonly ingestion: Ingestion,
    private readonly watch: ConnectorWatch,
    private readonly retention: RawRetention,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}
  onApplicationBootstrap() {
    this.timer = setInterval(() => {
      this.ingestion.sweep().catch((e) => this.log.warn({ err: (e as Error).message }, 'sweep failed; will retry'));
      this.retention.expire().catch((e) => this.log.warn({ err: (e as Error).message }, 'raw payload retention failed; will retry'));
    }, this.cfg.sweepIntervalMs);
    this.watchTimer = setInterval(() => {
      this.watch.run().catch((e) => this.log.warn({ err: (e as Error).message }, 'connector watch failed; will retry'));
    }, this.cfg.watchIntervalMs);
  }
  onApplicationShutdown() {
    clearInterval(this.timer);
    clearInterval(this.watchTimer);
  }
}

/** Inbound messages: accept (api), pipeline worker (worker), sweeper (scheduler). */
@Module({})
export class IngestionModule {
  static forRoles(roles: HubRole[]): DynamicModule {
    return {
      module: IngestionModule,
      imports: [BullModule.registerQueue({ name: QueueName.Pipeline }), ConnectorsModule, MappingModule, RoutingModule, CasesModule, DocumentsModule, MatchingModule, EnrichmentModule],
      providers: [
        Ingestion,
        Pipeline,
        MessageInterpreter,
        ConnectorWatch,
        MessageLedger,
        MappingReplay,
        RawRetention,
        PollAlarms,
        ...(roles.includes('worker') ? [PipelineWorker] : []),
        ...(roles.includes('scheduler') ? [SweepSchedule, PollScheduler] : []),
      ],
      controllers: [WebhooksController, MessagesController, ConnectorMessagesController, MappingReplayController],
      exports: [Ingestion],
    };
  }
}
