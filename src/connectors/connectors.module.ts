import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { CONNECTOR_TYPES } from './connector-catalog.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { ConnectorInstances } from './connector-instances.service.js';
import { ConnectorState } from './connector-state.service.js';
import { ConnectorsController } from './connectors.controller.js';

/** Connector types (from connectors/) and their configured instances. */
@Module({ providers: [ConnectorInstances, ConnectorState], controllers: [ConnectorsController], exports: [ConnectorInstances, ConnectorState] })
export class ConnectorsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly instances: ConnectorInstances,
    @Inject(HUB_LOGGER) private readonly log: Logger,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
  ) {}

  async onApplicationShutdown() {
    for (const c of CONNECTOR_TYPES) await c.stop?.();
  }

  async onModuleInit() {
    for (const c of CONNECTOR_TYPES) c.start?.({ redisUrl: this.cfg.redisUrl, keyPrefix: this.cfg.keyPrefix, log: this.log });
    const loaded = await this.instances.loadDeclaredFiles();
    if (loaded.length) this.log.info({ connectors: loaded }, 'connector instances loaded from files');
  }
}
