import { z } from 'zod';
import type { ValidationProblem } from './exception.schema.js';

/**
 * Canonical business documents v1: what the hub keeps of a trading partner's X12 transaction set once
 * it has been read. One discriminated union on `type`; every variant carries where it came from (`x12`)
 * and an `extra` record holding qualifiers that were present but have no named field here, so nothing a
 * partner sent is silently dropped. Dates are ISO `YYYY-MM-DD`, times `HH:MM[:SS]` (as sent, no zone),
 * amounts and quantities are numbers. Keys a partner left out, or sent as placeholders, are absent.
 */
export const BUSINESS_DOCUMENT_VERSION = 1 as const;

export const DOCUMENT_TYPES = [
  'purchase_order', 'po_acknowledgment', 'ship_notice', 'invoice', 'shipment_status', 'warehouse_shipping_order',
  'warehouse_shipping_advice', 'inventory_adjustment', 'inventory_advice', 'functional_ack', 'technical_ack',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Which X12 set (ST01, or 'TA1') each document type is read from. */
export const SET_DOCUMENT_TYPES: Readonly<Record<string, DocumentType>> = {
  '850': 'purchase_order', '855': 'po_acknowledgment', '856': 'ship_notice', '810': 'invoice', '214': 'shipment_status',
  '940': 'warehouse_shipping_order', '945': 'warehouse_shipping_advice', '947': 'inventory_adjustment',
  '846': 'inventory_advice', '997': 'functional_ack', '999': 'functional_ack', TA1: 'technical_ack',
};

/** Named dates; DTM/G62 qualifiers without a name here are kept in `extra` as `DTM.<qualifier>`. */
export const DATE_NAMES = [
  'requestedDelivery', 'requestedShip', 'shipped', 'delivered', 'estimatedDelivery', 'estimatedArrival', 'scheduledDelivery',
  'scheduledShip', 'promisedShip', 'promisedDelivery', 'shipNotBefore', 'shipNoLater', 'deliverNotBefore', 'deliverNoLater',
  'cancelAfter', 'purchaseOrder', 'invoice', 'effective', 'expiration', 'lotExpiration', 'available', 'transactionCreation', 'requiredBy',
] as const;
export type DateName = (typeof DATE_NAMES)[number];

/** Other named references (REF/N9/L11); unnamed qualifiers go to `extra` as `REF.<qualifier>`. */
export const REFERENCE_NAMES = [
  'department', 'vendorNumber', 'vendorOrderNumber', 'customerOrderNumber', 'sellerOrderNumber', 'trackingNumber',
  'shipperReference', 'packingListNumber', 'masterBolNumber', 'releaseNumber', 'contractNumber',
] as const;
export type ReferenceName = (typeof REFERENCE_NAMES)[number];

export const PARTY_ROLES = [
  'buyer', 'seller', 'ship_to', 'ship_from', 'bill_to', 'remit_to', 'sold_to', 'vendor', 'supplier', 'warehouse', 'depositor',
  'consignee', 'shipper', 'carrier', 'ordered_by', 'mark_for', 'manufacturer', 'payer', 'payee', 'other',
] as const;

/** 846 QTY01 qualifiers with a name (X12 element 673); others keep only their qualifier. */
export const INVENTORY_QUANTITY_NAMES = [
  'onHand', 'availableForSale', 'onOrder', 'received', 'onHold', 'damaged', 'committed', 'totalInventory',
  'projectedAvailable', 'backordered', 'noncommittedOnShelf', 'inTransit', 'reserved', 'available',
] as const;

export const HL_KINDS = ['shipment', 'order', 'tare', 'pack', 'subpack', 'item', 'other'] as const;

/** AK5/IK5 and AK9 acknowledgment codes (element 717/715): accepted, accepted with errors, rejected (MAC), partially accepted, rejected, ... */
export const FUNCTIONAL_ACK_CODES = ['A', 'E', 'M', 'P', 'R', 'W', 'X'] as const;
/** TA104 (element I17): accepted, accepted with errors, rejected. */
export const TECHNICAL_ACK_CODES = ['A', 'E', 'R'] as const;

const isoDate = z.iso.date();
const isoTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,2})?)?$/, 'must be HH:MM[:SS[.ss]]');
const code = z.string().regex(/^[A-Za-z0-9]{1,3}$/, 'must be an X12 code (1-3 letters or digits)');
const key = z.string().min(1).max(128);
const text = z.string().min(1).max(1000);
const num = z.number().finite();
const count = z.number().int().nonnegative();
const uom = z.string().regex(/^[A-Z0-9]{2}$/, 'must be a 2-character X12 unit of measure code');
const weightUnit = z.string().regex(/^[A-Z0-9]{1,2}$/, 'must be an X12 weight unit code');
const extraRecord = z.record(z.string().min(1).max(40), z.array(z.string().max(1000)).min(1));
const extra = extraRecord.default({});

function optionalFields<const K extends string, S extends z.ZodType>(names: readonly K[], schema: S) {
  return z.strictObject(Object.fromEntries(names.map((n) => [n, schema.optional()])) as Record<K, z.ZodOptional<S>>);
}
const dates = optionalFields(DATE_NAMES, isoDate).default({});
const references = optionalFields(REFERENCE_NAMES, key).default({});

/** Where the document came from: ST01, GS08, ST03, ST02 (absent for TA1), GS06, GS01, ISA13, ISA06/08, GS02/03; ISA15 not 'P'. */
export const X12SourceSchema = z.strictObject({
  set: z.string().regex(/^(\d{3}|TA1)$/), version: key.optional(), implementationRef: key.optional(), controlNumber: key.optional(),
  groupControlNumber: key.optional(), functionalId: code.optional(), interchangeControlNumber: key.optional(),
  senderId: key.optional(), receiverId: key.optional(), senderCode: key.optional(), receiverCode: key.optional(), testMode: z.boolean(),
});

/** An N1 loop: role from N101 (kept as `code`), N102 name, N103/N104 ID, N2 names, N3/N4 address, PER/G61 contacts. */
export const PartySchema = z.strictObject({
  role: z.enum(PARTY_ROLES), code: code.optional(), name: text.optional(), idQualifier: code.optional(), id: key.optional(),
  names: z.array(text).optional(),
  address: z
    .strictObject({ lines: z.array(text), city: text.optional(), state: key.optional(), postalCode: key.optional(), country: key.optional() })
    .optional(),
  contacts: z
    .array(z.strictObject({ function: code.optional(), name: text.optional(), phone: key.optional(), email: key.optional(), fax: key.optional() }))
    .optional(),
  extra,
});

const carrier = z.strictObject({
  scac: key.optional(), transportMethod: code.optional(), routing: text.optional(), paymentMethod: code.optional(), equipment: key.optional(),
});
const totals = z.strictObject({
  lineCount: count.optional(), quantity: num.optional(), quantityUom: uom.optional(), ladingQuantity: num.optional(),
  weight: num.optional(), weightUom: weightUnit.optional(),
  amount: num.optional(), amountSubjectToDiscount: num.optional(), discountedAmountDue: num.optional(), termsDiscountAmount: num.optional(),
});
/** SAC: allowance (A), charge (C) or information only (N); SAC05 amounts carry 2 implied decimals. */
export const ChargeSchema = z.strictObject({
  indicator: code.optional(), code: key.optional(), amount: num.optional(), percent: num.optional(), rate: num.optional(),
  quantity: num.optional(), uom: uom.optional(), handling: code.optional(), description: text.optional(),
});

const productIds = {
  sku: key.optional(), buyerPart: key.optional(), vendorPart: key.optional(), upc: key.optional(), upcCase: key.optional(),
  ean: key.optional(), gtin: key.optional(), lot: key.optional(),
};
const lineCore = {
  lineNumber: key.optional(), ...productIds, description: text.optional(), poNumber: key.optional(),
  quantityOrdered: num.optional(), quantityAcknowledged: num.optional(), quantityShipped: num.optional(),
  quantityInvoiced: num.optional(), quantityAdjusted: num.optional(),
  uom: uom.optional(), unitPrice: num.optional(), priceBasis: code.optional(),
  /** Per-line status as sent: 855 ACK01, 856 SN108, 945 W1201, 214 AT701. */
  status: code.optional(),
  /** 947 W1901 adjustment reason, 214 AT702 status reason. */
  reasonCode: code.optional(),
  dates,
  parties: z.array(PartySchema).optional(),
  extra,
};

const purchaseOrderLine = z.strictObject({
  ...lineCore,
  pack: z.strictObject({ pack: num.optional(), size: num.optional(), uom: uom.optional() }).optional(),
  sublines: z
    .array(z.strictObject({ lineNumber: key.optional(), relationship: code.optional(), quantity: num.optional(), uom: uom.optional(), unitPrice: num.optional(), ...productIds, extra }))
    .optional(),
});
const ackLine = z.strictObject({
  ...lineCore,
  /** Every ACK of the line; `status` is the first ACK01, `quantityAcknowledged` the sum of ACK02. */
  acknowledgments: z.array(
    z.strictObject({ status: code.optional(), quantity: num.optional(), uom: uom.optional(), dateQualifier: code.optional(), date: isoDate.optional(), industryCode: key.optional() }),
  ),
});
const hlRef = z.strictObject({ id: key.optional(), level: code.optional() });
const shipNoticeLine = z.strictObject({
  ...lineCore,
  quantityShippedToDate: num.optional(),
  /** The item's HL and its ancestors, root first (e.g. S, O, P). */
  hl: z.strictObject({ id: key.optional(), path: z.array(hlRef) }),
  /** First MAN mark (e.g. SSCC-18) of the nearest pack and tare above the item. */
  packMark: key.optional(),
  tareMark: key.optional(),
});
const invoiceLine = z.strictObject({ ...lineCore, charges: z.array(ChargeSchema) });
const warehouseLine = z.strictObject({
  ...lineCore, quantityDifference: num.optional(), weight: num.optional(), weightUom: weightUnit.optional(), transactionType: code.optional(),
});
const inventoryLine = z.strictObject({
  ...lineCore,
  quantities: z.array(
    z.strictObject({ qualifier: code, name: z.enum(INVENTORY_QUANTITY_NAMES).optional(), quantity: num, uom: uom.optional(), dates }),
  ),
});
const shipmentEvent = z.strictObject({
  status: code.optional(), reasonCode: code.optional(), appointmentStatus: code.optional(), appointmentReasonCode: code.optional(),
  date: isoDate.optional(), time: isoTime.optional(), timeCode: code.optional(),
});
const statusLine = z.strictObject({
  lineNumber: key.optional(),
  /** First AT7 of the LX loop; every AT7 is in `events`. */
  status: code.optional(), reasonCode: code.optional(), date: isoDate.optional(), time: isoTime.optional(), timeCode: code.optional(),
  events: z.array(shipmentEvent),
  location: z.strictObject({ city: text.optional(), state: key.optional(), country: key.optional() }).optional(),
  equipment: z.strictObject({ scac: key.optional(), number: key.optional(), type: code.optional() }).optional(),
  weight: num.optional(), weightUom: weightUnit.optional(), ladingQuantity: num.optional(),
  poNumber: key.optional(),
  extra,
});

export interface HlNode {
  id?: string;
  parentId?: string;
  /** HL03 as sent (S, O, T, P, Q, I, ...). */
  level?: string;
  kind: (typeof HL_KINDS)[number];
  poNumber?: string;
  poDate?: string;
  releaseNumber?: string;
  invoiceNumber?: string;
  marks?: { qualifier?: string; id: string }[];
  parties?: z.infer<typeof PartySchema>[];
  extra?: Record<string, string[]>;
  /** For items: index into the document's `lines`. */
  lineIndex?: number;
  children: HlNode[];
}
export const HlNodeSchema: z.ZodType<HlNode> = z.lazy(() =>
  z.strictObject({
    id: key.optional(), parentId: key.optional(), level: code.optional(), kind: z.enum(HL_KINDS),
    poNumber: key.optional(), poDate: isoDate.optional(), releaseNumber: key.optional(), invoiceNumber: key.optional(),
    marks: z.array(z.strictObject({ qualifier: code.optional(), id: key })).optional(),
    parties: z.array(PartySchema).optional(), extra: extraRecord.optional(), lineIndex: count.optional(), children: z.array(HlNodeSchema),
  }),
) as z.ZodType<HlNode>;

const common = { schemaVersion: z.literal(BUSINESS_DOCUMENT_VERSION), x12: X12SourceSchema, extra };
const business = {
  ...common,
  documentDate: isoDate.optional(),
  documentTime: isoTime.optional(),
  /** Transaction set purpose / status code as sent (BEG01, BAK01, BSN01, W0501, W0601, BIA01, ...). */
  purpose: code.optional(),
  dates,
  parties: z.array(PartySchema).default([]),
  poNumber: key.optional(),
  /** Every PO number the document refers to (one for most sets; each order of an ASN). */
  poNumbers: z.array(key).default([]),
  shipmentId: key.optional(), depositorOrderNumber: key.optional(), invoiceNumber: key.optional(), bolNumber: key.optional(), proNumber: key.optional(),
  references,
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  carrier: carrier.optional(),
  totals: totals.optional(),
};

/** AK2/IK5 loop: the acknowledged set (01 ID, 02 control number, 03 implementation reference) and what was wrong with it. */
const ackedSet = z.strictObject({
  setId: key.optional(), controlNumber: key.optional(), implementationRef: key.optional(),
  /** AK501/IK501: A accepted, E accepted with errors, M rejected (MAC failed), P partially accepted, R rejected, W, X. */
  status: z.enum(FUNCTIONAL_ACK_CODES).optional(),
  errorCodes: z.array(code),
  segmentErrors: z.array(
    z.strictObject({
      segmentId: key.optional(), position: count.optional(), loopId: key.optional(), code: code.optional(),
      context: z.array(text).optional(),
      elementErrors: z.array(
        z.strictObject({
          position: count.optional(), component: count.optional(), repetition: count.optional(), elementRef: key.optional(),
          code: code.optional(), badValue: z.string().max(1000).optional(),
        }),
      ),
    }),
  ),
});

export const BusinessDocumentSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('purchase_order'), ...business, orderType: code.optional(), lines: z.array(purchaseOrderLine) }),
    z.strictObject({ type: z.literal('po_acknowledgment'), ...business, acknowledgmentType: code.optional(), lines: z.array(ackLine) }),
    z.strictObject({ type: z.literal('ship_notice'), ...business, structureCode: key.optional(), hierarchy: z.array(HlNodeSchema), lines: z.array(shipNoticeLine) }),
    z.strictObject({
      type: z.literal('invoice'), ...business, transactionType: code.optional(), charges: z.array(ChargeSchema),
      terms: z.array(z.strictObject({ type: code.optional(), discountPercent: num.optional(), discountDays: count.optional(), discountDueDate: isoDate.optional(), netDays: count.optional(), netDueDate: isoDate.optional(), description: text.optional() })),
      lines: z.array(invoiceLine),
    }),
    z.strictObject({ type: z.literal('shipment_status'), ...business, lines: z.array(statusLine) }),
    z.strictObject({ type: z.literal('warehouse_shipping_order'), ...business, lines: z.array(warehouseLine) }),
    z.strictObject({ type: z.literal('warehouse_shipping_advice'), ...business, lines: z.array(warehouseLine) }),
    z.strictObject({
      type: z.literal('inventory_adjustment'), ...business, adjustmentNumber: key.optional(), depositorAdjustmentNumber: key.optional(), lines: z.array(warehouseLine),
    }),
    z.strictObject({ type: z.literal('inventory_advice'), ...business, reportType: code.optional(), referenceNumber: key.optional(), lines: z.array(inventoryLine) }),
    z.strictObject({
      type: z.literal('functional_ack'), ...common,
      ackedGroup: z.strictObject({ functionalId: code.optional(), controlNumber: key.optional(), version: key.optional() }).optional(),
      sets: z.array(ackedSet),
      /** AK901: A, E, M, P (partially accepted), R, W, X. */
      status: z.enum(FUNCTIONAL_ACK_CODES).optional(),
      setsIncluded: count.optional(), setsReceived: count.optional(), setsAccepted: count.optional(),
      errorCodes: z.array(code),
    }),
    z.strictObject({
      type: z.literal('technical_ack'), ...common,
      ackedInterchangeControlNumber: key.optional(), ackedDate: isoDate.optional(), ackedTime: isoTime.optional(),
      /** TA104: A accepted, E accepted with errors, R rejected; TA105 the note code ('000' no error). */
      status: z.enum(TECHNICAL_ACK_CODES).optional(), noteCode: code.optional(),
    }),
  ])
  .superRefine((doc, ctx) => {
    if (SET_DOCUMENT_TYPES[doc.x12.set] !== doc.type) {
      ctx.addIssue({ code: 'custom', path: ['x12', 'set'], message: `set ${doc.x12.set} does not make a ${doc.type}` });
    }
    if ('poNumbers' in doc && doc.poNumber !== undefined && !doc.poNumbers.includes(doc.poNumber)) {
      ctx.addIssue({ code: 'custom', path: ['poNumbers'], message: 'must include poNumber' });
    }
  });

export type BusinessDocument = z.infer<typeof BusinessDocumentSchema>;
export type DocumentOf<T extends DocumentType> = Extract<BusinessDocument, { type: T }>;
export type X12Source = z.infer<typeof X12SourceSchema>;
export type Party = z.infer<typeof PartySchema>;
export type Charge = z.infer<typeof ChargeSchema>;
export type Dates = z.infer<typeof dates>;
export type References = z.infer<typeof references>;
export type LineCore = z.infer<z.ZodObject<typeof lineCore>>;
export type InventoryQuantityName = (typeof INVENTORY_QUANTITY_NAMES)[number];

export function validateBusinessDocument(
  candidate: unknown,
): { ok: true; value: BusinessDocument } | { ok: false; problems: ValidationProblem[] } {
  const r = BusinessDocumentSchema.safeParse(candidate);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    problems: r.error.issues.slice(0, 50).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
  };
}

/** The published JSON Schema of the document union (input shape: defaulted fields are optional). */
export function businessDocumentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(BusinessDocumentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
