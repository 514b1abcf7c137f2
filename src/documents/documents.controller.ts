import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { DocumentLedger } from './document-ledger.service.js';

const ListQuery = z.strictObject({
  type: z.string().max(64).optional(),
  po: z.string().max(128).optional(),
  shipment: z.string().max(128).optional(),
  depositorOrder: z.string().max(128).optional(),
  invoice: z.string().max(128).optional(),
  connectorId: z.string().max(64).optional(),
  after: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

@ApiTags('documents')
@ApiBearerAuth()
@Controller('v1/documents')
export class DocumentsController {
  constructor(private readonly ledger: DocumentLedger) {}

  /** Canonical business documents (purchase orders, ship notices, invoices ...) by type and reference. */
  @Get()
  @Allow(...ANY_ROLE)
  list(@Query(new ZodPipe(ListQuery)) q: z.infer<typeof ListQuery>) {
    return this.ledger.find(q);
  }

  @Get(':id')
  @Allow(...ANY_ROLE)
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    const d = await this.ledger.get(id);
    if (!d) throw new NotFoundException(`no document ${id}`);
    return d;
  }
}
