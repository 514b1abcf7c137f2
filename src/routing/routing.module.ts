import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { MappingModule } from '../mapping/mapping.module.js';
import { Router } from './router.service.js';

/** Routing policy (HUB_POLICIES_DIR) and the decisions made from it. */
@Module({ imports: [MappingModule], providers: [Router], exports: [Router] })
export class RoutingModule implements OnModuleInit {
  constructor(
    private readonly router: Router,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    // The policy in force comes from MappingModule's registry (policies/ published at start, activations).
    const p = await this.router.load().then(() => this.router.current());
    this.log.info({ policy: `${p.id}@${p.version}`, rules: p.rules.length }, 'routing policy loaded');
  }
}
