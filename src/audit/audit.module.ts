import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditTrail } from './audit-trail.service.js';

/** The append-only audit trail. Global: every module that changes state records here. */
@Global()
@Module({ providers: [AuditTrail], exports: [AuditTrail], controllers: [AuditController] })
export class AuditModule {}
