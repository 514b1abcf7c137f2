import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { MappingModule } from '../mapping/mapping.module.js';
import { PolicySimulationController } from './policy-simulation.controller.js';
import { PolicySimulation } from './policy-simulation.service.js';
import { Router } from './router.service.js';

/** Routing policy (HUB_POLICIES_DIR) with its overlays, the decisions made from it, and simulation of candidate versions. */
@Module({ imports: [MappingModule], providers: [Router, PolicySimulation], controllers: [PolicySimulationController], exports: [Router] })
export class RoutingModule implements OnModuleInit {
  constructor(
    private readonly router: Router,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    const p = await this.router.load();
    this.log.info({ policy: `${p.id}@${p.version}`, rules: p.rules.length, overlays: [...this.router.files().overlays.keys()] }, 'routing policy loaded');
  }
}
