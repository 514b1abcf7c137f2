import { Module } from '@nestjs/common';
import { DocumentLedger } from './document-ledger.service.js';
import { DocumentsController } from './documents.controller.js';

/** Canonical business documents read by connectors (X12 850/855/856/810/...), queryable and correlated. */
@Module({ providers: [DocumentLedger], controllers: [DocumentsController], exports: [DocumentLedger] })
export class DocumentsModule {}
