import { randomUUID } from 'node:crypto';
import { createDataSource, migrate } from '../../src/database/data-source.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { MatchLedger } from '../../src/matching/match-ledger.service.js';
import { matchedLinesRows, type StoredDocument } from '../../src/matching/matched-lines.js';
import { DATABASE_URL, newWorld, type TestWorld } from '../support/hub-harness.js';

// Documents as the x12 connector stores them, with the fields matching ignores (descriptions, HL
// structure, dates per line, parties) and the cases the projection treats apart.
const at = new Date('2026-11-27T12:00:00.000Z');
const doc = (type: string, payload: Record<string, unknown>, cols: Partial<StoredDocument> = {}): StoredDocument => ({
  id: randomUUID(), messageId: randomUUID(), connectorId: 'edi', type, partner: 'acme-supply', poNumber: null, shipmentId: null, invoiceNumber: null,
  testMode: false, receivedAt: at, payload, ...cols,
});
const DOCUMENTS: StoredDocument[] = [
  doc('purchase_order', {
    poNumber: 'PO-1', poNumbers: ['PO-1'], documentDate: '2026-11-20', currency: 'USD', dates: { cancelAfter: '2026-12-31', requestedShip: '2026-12-01' },
    lines: [
      { lineNumber: '1', vendorPart: 'A', quantityOrdered: 10, unitPrice: 2.5, uom: 'EA', description: 'Widget', dates: { requestedDelivery: '2026-12-10' } },
      { lineNumber: '2', sku: 'B', upc: '0001', quantityOrdered: 4.5, unitPrice: 0.1, dates: { requestedDelivery: '2026-12-05' }, parties: [{ role: 'ST', id: '9' }] },
    ],
  }, { poNumber: 'PO-1' }),
  doc('ship_notice', {
    shipmentId: 'SH-1', poNumbers: ['PO-1', 'PO-2'], dates: { shipped: '2026-11-27' }, hierarchy: { levels: [{ id: '1', code: 'S' }] },
    lines: [{ vendorPart: 'A', poNumber: 'PO-1', quantityShipped: 10, lot: 'L1' }, { gtin: '123', poNumber: 'PO-2', quantityShipped: 3 }, { vendorPart: 'C', quantityShipped: 1 }],
  }, { shipmentId: 'SH-1' }),
  doc('ship_notice', { shipmentId: 'SH-2', poNumbers: ['PO-1'], lines: [{ ean: '77', quantityShipped: 2 }] }, { shipmentId: 'SH-2', poNumber: 'PO-1', testMode: true }),
  doc('invoice', { invoiceNumber: 'INV-1', currency: 'EUR', lines: [{ lineNumber: '1', buyerPart: 'X', quantityInvoiced: 3, unitPrice: 9.99, description: 'x' }] }, { poNumber: 'PO-1', invoiceNumber: 'INV-1' }),
  doc('po_acknowledgment', { lines: [{ lineNumber: '1', sku: 'A', quantityAcknowledged: 10 }] }, { poNumber: 'PO-1' }),
  doc('invoice', { duplicate: true, lines: [{ sku: 'A', quantityInvoiced: 1 }] }, { poNumber: 'PO-1', invoiceNumber: 'INV-D' }),
  doc('invoice', { lines: [{ sku: 'A', quantityInvoiced: 1 }] }, { poNumber: 'PO-1', partner: null }),
  doc('shipment_status', { lines: [] }, { poNumber: 'PO-1' }),
];

describe('document_match_lines: backfill of documents stored before the migration', () => {
  let world: TestWorld;
  beforeAll(() => {
    world = newWorld();
  });
  afterAll(() => world.drop());

  it('gives the same rows and content hashes as the write path; down removes the table and the digest column', async () => {
    const ds = createDataSource({ databaseUrl: DATABASE_URL, dbSchema: world.schema, dbPoolSize: 2 });
    await ds.initialize();
    try {
      await migrate(ds, world.schema);
      for (const [i, d] of DOCUMENTS.entries()) {
        await ds.query(
          `INSERT INTO business_documents (id, message_id, ordinal, type, connector_id, partner, po_number, shipment_id, invoice_number, test_mode, received_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [d.id, d.messageId, i, d.type, d.connectorId, d.partner, d.poNumber, d.shipmentId, d.invoiceNumber, d.testMode, d.receivedAt, JSON.stringify(d.payload)],
        );
      }
      const all = () => ds.query(`SELECT * FROM document_match_lines ORDER BY document_id, po_number`);
      await new MatchLedger().keepLinesAndLock(ds.manager, DOCUMENTS.flatMap(matchedLinesRows), []);
      const written = await all();
      // PO, ship notice SH-1 for PO-1 and PO-2, SH-2 (test), invoice, 855: nothing for the duplicate, the partnerless invoice or the 214.
      expect(written).toHaveLength(6);

      // Back to before DocumentMatchLines, undoing the migrations that came after it first.
      const newer = MIGRATIONS.slice(MIGRATIONS.findIndex((m) => m.name === 'DocumentMatchLines1795811051101')).map((m) => m.name);
      for (let i = 0; i < newer.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      const exists = async (table: string, column?: string) =>
        (await ds.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND ($3::text IS NULL OR column_name = $3)`, [world.schema, table, column ?? null]))[0].n > 0;
      expect(await exists('document_match_lines')).toBe(false);
      expect(await exists('document_matches', 'inputs_digest')).toBe(false);

      expect(await migrate(ds, world.schema)).toEqual(newer);
      expect(await all()).toEqual(written);
    } finally {
      await ds.destroy();
    }
  });
});
