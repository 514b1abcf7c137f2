import type { ConnectorContext, ConnectorFinding, SentDocument } from '../../src/connectors/connector.js';
import type { BusinessDocument } from '../../src/canonical/business-documents.js';
import type { PartnerProfile } from './partners.js';

type FunctionalAck = Extract<BusinessDocument, { type: 'functional_ack' }>;
type TechnicalAck = Extract<BusinessDocument, { type: 'technical_ack' }>;

const strip = (n?: string) => (n ?? '').replace(/^0+(?=\d)/, '');

/**
 * Reconciles acknowledgments a partner sent us (997/999/TA1) against the documents we sent them
 * (outbound copies kept by the connector). A rejected interchange, group or set becomes
 * INTEGRATION.EDI_REJECTED naming the rejected document and its business references.
 */
export async function reconcileAcks(
  docs: BusinessDocument[],
  partner: PartnerProfile,
  connectorId: string,
  ctx: ConnectorContext,
  usage: string,
): Promise<ConnectorFinding[]> {
  const findings: ConnectorFinding[] = [];
  const testMode = usage !== 'P';
  for (const doc of docs) {
    if (doc.type === 'functional_ack') findings.push(...(await functional(doc, partner, connectorId, ctx, testMode, usage)));
    if (doc.type === 'technical_ack') findings.push(...(await technical(doc, partner, connectorId, ctx, testMode)));
  }
  return findings;
}

async function functional(ack: FunctionalAck, partner: PartnerProfile, connectorId: string, ctx: ConnectorContext, testMode: boolean, usage: string): Promise<ConnectorFinding[]> {
  const group = ack.ackedGroup?.controlNumber;
  if (!group) return [];
  // The acknowledgment we were waiting for has come: no overdue alarm for this group.
  await ctx.release(`expect:${partner.id}:gs:${strip(group)}:${usage}`);
  const rejectedSets = ack.sets.filter((s) => s.status === 'R' || s.status === 'M' || s.status === 'W' || s.status === 'X');
  const groupRejected = ack.status === 'R' || ack.status === 'M' || ack.status === 'W' || ack.status === 'X';
  if (!rejectedSets.length && !groupRejected) return [];
  const sent = await ctx.sentDocuments({ partner: partner.id, groupControlNumber: group });
  const targets: { set?: string; codes: string[]; doc?: SentDocument }[] = rejectedSets.length
    ? rejectedSets.map((s) => ({ set: s.controlNumber, codes: s.errorCodes, doc: sent.find((d) => strip(d.setControlNumber) === strip(s.controlNumber)) }))
    : [{ codes: ack.errorCodes, doc: undefined }];
  return targets.map((t) => {
    const what = t.doc ? `${t.doc.type.replace(/_/g, ' ')}${t.doc.poNumber ? ` PO ${t.doc.poNumber}` : ''}` : `set ${t.set ?? '(whole group)'}`;
    return {
      code: 'INTEGRATION.EDI_REJECTED',
      title: `${partner.name} rejected our ${what} (group ${group}${t.set ? `, set ${t.set}` : ''}): codes ${t.codes.join(', ') || 'none given'}`.slice(0, 200),
      correlationKey: t.doc?.poNumber ? `po:${t.doc.poNumber}` : `edi-rejected:${connectorId}:${partner.id}:${group}`,
      references: { po: t.doc?.poNumber, shipment: t.doc?.shipmentId, invoice: t.doc?.invoiceNumber },
      attributes: {
        partner: partner.id,
        ackStatus: ack.status ?? null,
        group,
        set: t.set ?? null,
        errorCodes: t.codes,
        rejectedDocument: t.doc ?? null,
        matched: !!t.doc,
        segmentErrors: ack.sets.find((s) => s.controlNumber === t.set)?.segmentErrors ?? [],
      },
      testMode,
      fails: false,
    } satisfies ConnectorFinding;
  });
}

async function technical(ack: TechnicalAck, partner: PartnerProfile, connectorId: string, ctx: ConnectorContext, testMode: boolean): Promise<ConnectorFinding[]> {
  const ic = ack.ackedInterchangeControlNumber;
  if (!ic) return [];
  if (ack.status !== 'R') return [];
  const sent = await ctx.sentDocuments({ partner: partner.id, interchangeControlNumber: ic });
  const pos = [...new Set(sent.map((d) => d.poNumber).filter((p): p is string => !!p))];
  return [
    {
      code: 'INTEGRATION.EDI_REJECTED',
      title: `${partner.name} rejected our interchange ${ic} (TA1 note ${ack.noteCode ?? '?'})${pos.length ? `: PO ${pos.join(', ')}` : ''}`.slice(0, 200),
      correlationKey: pos.length === 1 ? `po:${pos[0]}` : `edi-rejected:${connectorId}:${partner.id}:isa:${ic}`,
      references: pos.length === 1 ? { po: pos[0] } : {},
      attributes: { partner: partner.id, interchange: ic, noteCode: ack.noteCode ?? null, rejectedDocuments: sent },
      testMode,
      fails: false,
    },
  ];
}
