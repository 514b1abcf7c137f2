import { Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CanonicalModule } from './canonical/canonical.module.js';
import { CasesModule } from './cases/cases.module.js';
import { HubConfigModule } from './config/config.module.js';
import type { HubConfig } from './config/hub-config.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { dataSourceOptions } from './database/data-source.js';
import { IngestionModule } from './ingestion/ingestion.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { TriageModule } from './triage/triage.module.js';
import { ActionWorkersModule } from './actions/actions.module.js';
import { SlaWorkersModule } from './sla/sla.module.js';
import { ReportingModule } from './reporting/reporting.module.js';
import { redisConnection } from './queues/redis-connection.js';

/** The whole hub; which workers and schedules run depends on HUB_ROLES. */
@Module({})
export class AppModule {
  static forConfig(cfg: HubConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HubConfigModule.forRoot(cfg, logger),
        TypeOrmModule.forRoot({ ...dataSourceOptions(cfg), retryAttempts: 0 }),
        BullModule.forRoot({ connection: redisConnection(cfg.redisUrl, { worker: false }), prefix: cfg.keyPrefix }),
        ObservabilityModule,
        AuditModule,
        DeliveryModule.forRoles(cfg.roles),
        AuthModule,
        CanonicalModule,
        ConnectorsModule,
        CasesModule,
        TriageModule,
        ReportingModule,
        IngestionModule.forRoles(cfg.roles),
        SlaWorkersModule.forRoles(cfg.roles),
        ActionWorkersModule.forRoles(cfg.roles),
      ],
    };
  }
}
