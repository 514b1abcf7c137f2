import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeys } from './api-keys.service.js';

/** API keys with roles; the guard protects every route not marked @Public. */
@Module({
  providers: [ApiKeys, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  controllers: [ApiKeysController],
  exports: [ApiKeys],
})
export class AuthModule {}
