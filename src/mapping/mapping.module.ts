import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { ActiveArtifacts } from './active-artifacts.service.js';
import { ArtifactRegistry } from './artifact-registry.service.js';
import { MappingsController } from './mappings.controller.js';
import { PoliciesController } from './policies.controller.js';

/**
 * Versioned mappings and routing policies: published versions in PostgreSQL (the folders
 * HUB_MAPPINGS_DIR and HUB_POLICIES_DIR are published at start), activations, and the versions
 * in force (`ActiveArtifacts`: the pipeline asks it for mappings, the Router for its policy).
 */
@Module({
  imports: [ConnectorsModule],
  providers: [ArtifactRegistry, ActiveArtifacts],
  controllers: [MappingsController, PoliciesController],
  exports: [ActiveArtifacts, ArtifactRegistry],
})
export class MappingModule implements OnModuleInit {
  constructor(
    private readonly registry: ArtifactRegistry,
    private readonly active: ActiveArtifacts,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    const n = await this.registry.loadFolders();
    await this.active.sync();
    this.log.info(n, 'mapping and policy folders published');
  }
}
