import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { returnedRows } from '../database/returning.js';
import type { ConnectorContext, WatchContext } from './connector.js';

/** Builds the durable ConnectorContext a connector gets while parsing, bound to the pipeline's transaction. */
@Injectable()
export class ConnectorState {
  watchContextFor(m: EntityManager, connectorId: string, now: Date): WatchContext {
    return {
      now,
      claims: async (prefix, limit = 1000) => {
        const rows: { key: string; message_id: string; claimed_at: Date }[] = await m.query(
          `SELECT key, message_id, claimed_at FROM connector_claims WHERE connector_id = $1 AND key LIKE $2 ORDER BY claimed_at LIMIT $3`,
          [connectorId, prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%', limit],
        );
        return rows.map((r) => ({ key: r.key, messageId: r.message_id, claimedAt: new Date(r.claimed_at) }));
      },
      release: async (key) => {
        await m.query(`DELETE FROM connector_claims WHERE connector_id = $1 AND key = $2`, [connectorId, key.slice(0, 256)]);
      },
      hasClaim: async (key) => (await m.query(`SELECT 1 FROM connector_claims WHERE connector_id = $1 AND key = $2`, [connectorId, key])).length > 0,
      claimOnce: async (key, messageId) =>
        (
          await m.query(
            `INSERT INTO connector_claims (connector_id, key, message_id, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key`,
            [connectorId, key.slice(0, 256), messageId, now],
          )
        ).length > 0,
    };
  }

  contextFor(m: EntityManager, connectorId: string, messageId: string, receivedAt: Date, meta: Record<string, string> = {}): ConnectorContext {
    return {
      messageId,
      receivedAt,
      meta,
      nextCounter: async (scope) => {
        // The row lock taken by ON CONFLICT DO UPDATE serializes concurrent workers per scope.
        const rows: { value: string }[] = await m.query(
          `INSERT INTO connector_counters (connector_id, scope, value) VALUES ($1, $2, 1)
           ON CONFLICT (connector_id, scope) DO UPDATE SET value = connector_counters.value + 1 RETURNING value`,
          [connectorId, scope],
        );
        return Number(rows[0].value);
      },
      release: async (key) => {
        await m.query(`DELETE FROM connector_claims WHERE connector_id = $1 AND key = $2`, [connectorId, key.slice(0, 256)]);
      },
      sentDocuments: async (q) => {
        const params: unknown[] = [connectorId, q.partner];
        let where = '';
        // Control numbers are compared as numbers: partners echo them with or without zero padding.
        if (q.groupControlNumber) {
          params.push(q.groupControlNumber.replace(/^0+(?=\d)/, ''));
          where += ` AND ltrim(payload->'x12'->>'groupControlNumber', '0') = $${params.length}`;
        }
        if (q.interchangeControlNumber) {
          params.push(q.interchangeControlNumber.replace(/^0+(?=\d)/, ''));
          where += ` AND ltrim(payload->'x12'->>'interchangeControlNumber', '0') = $${params.length}`;
        }
        const rows: { message_id: string; type: string; po_number: string | null; shipment_id: string | null; invoice_number: string | null; x12: Record<string, string> }[] =
          await m.query(
            `SELECT message_id, type, po_number, shipment_id, invoice_number, payload->'x12' AS x12 FROM business_documents
              WHERE connector_id = $1 AND partner = $2 AND payload->>'direction' = 'outbound'${where} ORDER BY received_at DESC LIMIT 500`,
            params,
          );
        return rows.map((r) => ({
          messageId: r.message_id,
          type: r.type,
          poNumber: r.po_number ?? undefined,
          shipmentId: r.shipment_id ?? undefined,
          invoiceNumber: r.invoice_number ?? undefined,
          setControlNumber: r.x12?.controlNumber,
          groupControlNumber: r.x12?.groupControlNumber,
          interchangeControlNumber: r.x12?.interchangeControlNumber,
        }));
      },
      claim: async (key, lookbackDays) => {
        const inserted: { message_id: string }[] = await m.query(
          `INSERT INTO connector_claims (connector_id, key, message_id, claimed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (connector_id, key) DO NOTHING RETURNING message_id`,
          [connectorId, key.slice(0, 256), messageId, receivedAt],
        );
        if (inserted.length) return null;
        const rows: { message_id: string; claimed_at: Date }[] = await m.query(
          `SELECT message_id, claimed_at FROM connector_claims WHERE connector_id = $1 AND key = $2 FOR UPDATE`,
          [connectorId, key.slice(0, 256)],
        );
        const prior = rows[0];
        if (prior.message_id === messageId) return { messageId, seenAt: new Date(prior.claimed_at), self: true };
        const ageDays = (receivedAt.getTime() - new Date(prior.claimed_at).getTime()) / 86_400_000;
        if (ageDays <= lookbackDays) return { messageId: prior.message_id, seenAt: new Date(prior.claimed_at) };
        // Outside the lookback window: the partner reused the number; this message takes the claim.
        returnedRows(
          await m.query(`UPDATE connector_claims SET message_id = $3, claimed_at = $4 WHERE connector_id = $1 AND key = $2`, [
            connectorId,
            key.slice(0, 256),
            messageId,
            receivedAt,
          ]),
        );
        return null;
      },
    };
  }
}
