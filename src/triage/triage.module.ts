import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CasesModule } from '../cases/cases.module.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { TriageController } from './triage.controller.js';
import { TriageDesk } from './triage-desk.service.js';

/** AI-assisted triage of free text: suggestions, the review queue, routing of what is accepted. */
@Module({ imports: [CasesModule], providers: [TriageDesk], controllers: [TriageController] })
export class TriageModule implements OnModuleInit {
  constructor(
    private readonly desk: TriageDesk,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    this.log.info({ model: await this.desk.load() }, 'triage model loaded');
  }
}
