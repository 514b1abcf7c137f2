import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HUB_CONFIG, type HubConfig } from './hub-config.js';

/** Makes the validated HubConfig and the process logger injectable everywhere. */
@Global()
@Module({})
export class HubConfigModule {
  static forRoot(cfg: HubConfig, logger: Logger): DynamicModule {
    return {
      module: HubConfigModule,
      providers: [
        { provide: HUB_CONFIG, useValue: cfg },
        { provide: HUB_LOGGER, useValue: logger },
      ],
      exports: [HUB_CONFIG, HUB_LOGGER],
    };
  }
}
