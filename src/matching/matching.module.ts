import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CasesModule } from '../cases/cases.module.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { RoutingModule } from '../routing/routing.module.js';
import { DocumentMatching } from './document-matching.service.js';
import { ExpectedDocuments } from './expected-documents.service.js';
import { MatchCases } from './match-cases.js';
import { MatchLedger } from './match-ledger.service.js';
import { MatchingPolicyStore } from './matching-policy.store.js';

/** Scheduler role: checks expected-document due times every HUB_WATCH_INTERVAL_MS. */
@Injectable()
class ExpectedDocumentSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly expected: ExpectedDocuments,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}
  onApplicationBootstrap() {
    if (!this.cfg.roles.includes('scheduler')) return;
    this.timer = setInterval(() => {
      this.expected.fireDue().catch((e) => this.log.warn({ err: (e as Error).message }, 'expected-document check failed; will retry'));
    }, this.cfg.watchIntervalMs);
  }
  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}

/** Document matching (PO ↔ ship notice ↔ invoice) and expected documents; policy from HUB_POLICIES_DIR/matching/. */
@Module({
  imports: [CasesModule, RoutingModule, ConnectorsModule],
  providers: [MatchingPolicyStore, MatchCases, MatchLedger, DocumentMatching, ExpectedDocuments, ExpectedDocumentSchedule],
  exports: [DocumentMatching, ExpectedDocuments],
})
export class MatchingModule implements OnModuleInit {
  constructor(
    private readonly policy: MatchingPolicyStore,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    const p = await this.policy.load();
    this.log.info({ version: p.version, partners: Object.keys(p.partners).length }, 'matching policy loaded');
  }
}
