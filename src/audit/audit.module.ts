import { Global, Module } from '@nestjs/common';
import { AuditChain } from './audit-chain.service.js';
import { AuditController } from './audit.controller.js';
import { AuditTrail } from './audit-trail.service.js';

/** The append-only audit trail and its hash chain. Global: every module that changes state records here. */
@Global()
@Module({ providers: [AuditTrail, AuditChain], exports: [AuditTrail, AuditChain], controllers: [AuditController] })
export class AuditModule {}
