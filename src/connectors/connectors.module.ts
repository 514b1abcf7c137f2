import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { ConnectorInstances } from './connector-instances.service.js';
import { ConnectorState } from './connector-state.service.js';
import { ConnectorsController } from './connectors.controller.js';

/** Connector types (from connectors/) and their configured instances. */
@Module({ providers: [ConnectorInstances, ConnectorState], controllers: [ConnectorsController], exports: [ConnectorInstances, ConnectorState] })
export class ConnectorsModule implements OnModuleInit {
  constructor(
    private readonly instances: ConnectorInstances,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit() {
    const loaded = await this.instances.loadDeclaredFiles();
    if (loaded.length) this.log.info({ connectors: loaded }, 'connector instances loaded from files');
  }
}
