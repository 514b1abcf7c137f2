import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { Enrichment } from './enrichment.service.js';

/** Lookups from connectors (ERP customer tier, order value, alternate stock) applied to exceptions before routing. */
@Module({ imports: [ConnectorsModule], providers: [Enrichment], exports: [Enrichment] })
export class EnrichmentModule {}
