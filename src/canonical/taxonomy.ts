/**
 * Canonical exception taxonomy v1: the shared codes every connector and mapping produces.
 * Each code has a category, a default severity tier and the attributes (paths into the
 * canonical exception) that must be present for the exception to be actionable.
 */
export const SEVERITIES = ['info', 'standard', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = [
  'ORDER',
  'WAREHOUSE',
  'PROCUREMENT',
  'FINANCE',
  'LOGISTICS',
  'INTEGRATION',
  'MASTERDATA',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CodeDefinition {
  category: Category;
  severity: Severity;
  title: string;
  /** Dotted paths that must hold a value, e.g. `references.order`; `a|b` means either. */
  required: string[];
}

const def = (severity: Severity, title: string, required: string[] = []) => ({ severity, title, required });

const CODES = {
  'ORDER.CREDIT_HOLD': def('standard', 'Order on credit hold', ['references.order', 'references.customer']),
  'ORDER.PRICING_MISMATCH': def('standard', 'Order pricing mismatch', ['references.order|references.po']),
  'ORDER.RELEASE_BLOCKED': def('standard', 'Order release blocked', ['references.order']),
  'WAREHOUSE.PICK_SHORTFALL': def('critical', 'Pick shortfall', ['references.order', 'references.sku', 'quantities']),
  'WAREHOUSE.INVENTORY_VARIANCE': def('standard', 'Inventory variance', ['references.sku', 'quantities']),
  /** A later WMS event saying the shortfall was made good; a routing rule's `clears` resolves the shortfall case. */
  'WAREHOUSE.PICK_SHORTFALL_CLEARED': def('info', 'Pick shortfall cleared', ['references.order']),
  'WAREHOUSE.DAMAGED_GOODS': def('standard', 'Damaged goods', ['references.sku', 'quantities']),
  'PROCUREMENT.ASN_MISMATCH': def('standard', 'Ship notice does not match the purchase order', ['references.po']),
  'PROCUREMENT.PO_ACK_REJECTED': def('standard', 'Purchase order line rejected by supplier', ['references.po']),
  'PROCUREMENT.SUPPLIER_DELIVERY_CHANGE': def('standard', 'Supplier changed delivery', ['references.po']),
  'PROCUREMENT.PO_ACK_MISSING': def('standard', 'Purchase order not acknowledged by supplier in time', ['references.po']),
  'PROCUREMENT.ASN_MISSING': def('standard', 'No ship notice before the requested delivery date', ['references.po']),
  'FINANCE.INVOICE_DISCREPANCY': def('standard', 'Invoice discrepancy', ['references.invoice']),
  'FINANCE.INVOICE_HOLD': def('standard', 'Invoice on hold', ['references.order|references.invoice']),
  'FINANCE.TAX_ERROR': def('standard', 'Tax error', ['references.invoice']),
  'LOGISTICS.SHIPMENT_DELAY': def('standard', 'Shipment delayed', ['references.shipment']),
  'LOGISTICS.SHIPMENT_HOLD': def('standard', 'Shipment on hold', ['references.shipment']),
  'INTEGRATION.EDI_SYNTAX_ERROR': def('standard', 'EDI syntax error', []),
  'INTEGRATION.EDI_REJECTED': def('standard', 'EDI transaction rejected by partner', []),
  'INTEGRATION.EDI_DUPLICATE': def('info', 'Duplicate EDI interchange', []),
  'INTEGRATION.MAPPING_FAILED': def('standard', 'Mapping failed', []),
  'INTEGRATION.MALFORMED_PAYLOAD': def('standard', 'Malformed inbound payload', []),
  'INTEGRATION.UNKNOWN_PARTNER': def('standard', 'Message from an unknown trading partner', []),
  'INTEGRATION.ACK_OVERDUE': def('standard', 'Acknowledgment overdue from trading partner', []),
  'INTEGRATION.CONNECTOR_DOWN': def('critical', 'Connector down', []),
  'INTEGRATION.FEED_SILENT': def('standard', 'Expected feed has gone silent', []),
  'INTEGRATION.DELIVERY_FAILED': def('standard', 'Delivery to subscriber failed', []),
  'MASTERDATA.INCOMPLETE_CUSTOMER': def('standard', 'Incomplete customer master data', ['references.customer']),
} as const satisfies Record<string, Omit<CodeDefinition, 'category'>>;

export type ExceptionCode = keyof typeof CODES;
export const EXCEPTION_CODES = Object.keys(CODES) as [ExceptionCode, ...ExceptionCode[]];

export const TAXONOMY: Record<ExceptionCode, CodeDefinition> = Object.fromEntries(
  Object.entries(CODES).map(([code, d]) => [
    code,
    { ...d, required: [...d.required], category: code.split('.')[0] as Category },
  ]),
) as Record<ExceptionCode, CodeDefinition>;

export function isExceptionCode(code: unknown): code is ExceptionCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(TAXONOMY, code);
}

/** Why a case was resolved; resolving a case requires one of these. */
export const ROOT_CAUSES = {
  INVENTORY_SYNC_DELAY: 'Inventory not synchronized between systems in time',
  INVENTORY_INACCURACY: 'Physical inventory differs from system records',
  WAREHOUSE_PROCESS: 'Warehouse process error (picking, packing, putaway)',
  SUPPLIER_ERROR: 'Supplier shipped, acknowledged or invoiced incorrectly',
  CARRIER_ISSUE: 'Carrier delay, damage or hold',
  CUSTOMER_CHANGE: 'Customer changed or cancelled the order',
  PRICING_SETUP: 'Price list or contract pricing set up wrongly',
  CREDIT_POLICY: 'Credit limit or payment terms',
  MASTER_DATA_ERROR: 'Customer, item or partner master data wrong or missing',
  PARTNER_EDI_ERROR: 'Trading partner sent invalid or unexpected EDI',
  MAPPING_ERROR: 'Hub mapping or configuration error',
  SYSTEM_OUTAGE: 'System or connector outage',
  DUPLICATE: 'Duplicate of another case or message',
  NO_ISSUE: 'Checked: no actual problem',
  OTHER: 'Other (explained in the resolution note)',
} as const;
export type RootCause = keyof typeof ROOT_CAUSES;
export const ROOT_CAUSE_CODES = Object.keys(ROOT_CAUSES) as [RootCause, ...RootCause[]];

const SEVERITY_RANK: Record<Severity, number> = { info: 0, standard: 1, critical: 2 };
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}
export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}
