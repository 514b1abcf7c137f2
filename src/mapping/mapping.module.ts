import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { MappingRegistry } from './mapping-registry.service.js';

/** Versioned JSONata mappings loaded from HUB_MAPPINGS_DIR. */
@Module({ providers: [MappingRegistry], exports: [MappingRegistry] })
export class MappingModule implements OnModuleInit {
  constructor(
    private readonly registry: MappingRegistry,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    const n = await this.registry.load();
    this.log.info({ versions: n }, 'mappings loaded');
  }
}
