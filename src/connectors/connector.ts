import type { Logger } from 'pino';
import type { ZodType } from 'zod';

/** A connector instance as connectors see it: validated config and decrypted secrets. */
export interface ResolvedInstance<C = Record<string, unknown>, S = Record<string, unknown>> {
  id: string;
  type: string;
  name: string;
  enabled: boolean;
  config: C & CommonConnectorConfig;
  secrets: S;
}

/** Settings every connector instance has, whatever its type. */
export interface CommonConnectorConfig {
  /** Name of the source system, carried onto every exception (e.g. "reno-wms"). */
  system: string;
  /** Mapping id used for this instance's documents. */
  mapping: string;
}

export interface InboundRequest {
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  contentType?: string;
  now: Date;
}

/** What a connector learned when it accepted a request. */
export interface Acceptance {
  senderEventId?: string;
  /** Facts about the message kept with it and handed to parse (ConnectorContext.meta). */
  meta?: Record<string, string>;
  /** Set when the body is unusable; the message is still stored and the sender gets a 400. */
  malformed?: PayloadProblem;
}

export interface PayloadProblem {
  reason: string;
  position?: { offset?: number; line?: number; column?: number };
}

export interface ParsedDocument {
  documentType: string;
  payload: unknown;
  testMode?: boolean;
  /** Keep the payload as a canonical business document (GET /v1/documents), keyed by these references. */
  store?: { poNumber?: string; shipmentId?: string; depositorOrder?: string; invoiceNumber?: string; partner?: string };
  /** Stored but not mapped to exceptions (e.g. a resent interchange under a process-and-flag policy). */
  skipMapping?: boolean;
}

/** A problem the connector itself raises as an INTEGRATION exception (syntax errors, duplicates, unknown partners). */
export interface ConnectorFinding {
  code: 'INTEGRATION.EDI_SYNTAX_ERROR' | 'INTEGRATION.EDI_DUPLICATE' | 'INTEGRATION.EDI_REJECTED' | 'INTEGRATION.UNKNOWN_PARTNER' | 'INTEGRATION.MALFORMED_PAYLOAD' | 'INTEGRATION.ACK_OVERDUE';
  title: string;
  correlationKey: string;
  attributes: Record<string, unknown>;
  references?: { po?: string; shipment?: string; invoice?: string; order?: string };
  testMode?: boolean;
  /** Whether this finding means the message failed (replayable) rather than was processed with a flag. */
  fails: boolean;
}

/** Something to send back to the partner through the connector's outbound channel (acknowledgments). */
export interface OutboundDocument {
  kind: 'TA1' | '997' | '999';
  content: string;
  contentType: string;
  /** The partner profile it goes to, and the control number it was sent under. */
  partner: string;
  controlNumber: string;
}

export interface ParseOutcome {
  documents: ParsedDocument[];
  findings?: ConnectorFinding[];
  outbound?: OutboundDocument[];
}

/**
 * Durable state a connector may use while parsing, inside the pipeline's transaction, so that
 * counters and duplicate claims commit (or roll back) together with the message's results.
 */
export interface ConnectorContext {
  messageId: string;
  receivedAt: Date;
  /** What the sender stated when the message was accepted (Acceptance.meta). */
  meta: Record<string, string>;
  /** Next value of a persisted counter (e.g. our ISA13 towards one partner); starts at 1. */
  nextCounter(scope: string): Promise<number>;
  /**
   * Claims a key (e.g. a partner's ISA13) for this message. Returns the earlier message that
   * claimed it within the lookback window (`self` when that was this same message, in an earlier
   * run), or null when this message is the first.
   */
  claim(key: string, lookbackDays: number): Promise<{ messageId: string; seenAt: Date; self?: boolean } | null>;
  /** Drops a claim (e.g. an acknowledgment we were waiting for has arrived). */
  release(key: string): Promise<void>;
  /** Documents this connector stored as sent to a partner (outbound copies), by their X12 control numbers. */
  sentDocuments(q: { partner: string; interchangeControlNumber?: string; groupControlNumber?: string }): Promise<SentDocument[]>;
}

/** Durable state for a connector's watch, inside the scheduler's transaction. */
export interface WatchContext {
  now: Date;
  /** Claims whose key starts with the prefix, oldest first. */
  claims(prefix: string, limit?: number): Promise<{ key: string; messageId: string; claimedAt: Date }[]>;
  hasClaim(key: string): Promise<boolean>;
  /** Claims a key for a message (first claim wins; returns false when it already existed). */
  claimOnce(key: string, messageId: string): Promise<boolean>;
  release(key: string): Promise<void>;
}

export interface SentDocument {
  messageId: string;
  type: string;
  poNumber?: string;
  shipmentId?: string;
  invoiceNumber?: string;
  setControlNumber?: string;
  groupControlNumber?: string;
  interchangeControlNumber?: string;
}

/** One run of a connector action (e.g. place an invoice hold in the ERP), queued by routing. */
export interface ActionRequest {
  action: string;
  params: Record<string, unknown>;
  /** Stable across retries of the same action on the same case: the target system deduplicates with it. */
  idempotencyKey: string;
  caseId: string;
  attempt: number;
}

export interface ActionOutcome {
  status: 'done' | 'failed';
  /** For failed outcomes: whether a retry may succeed (timeouts, 5xx, 429) or not (4xx, business refusal). */
  retryable?: boolean;
  summary: string;
  /** The target system's answer, kept in the audit trail (never credentials). */
  response?: unknown;
}

export interface ConnectorAction<C = unknown, S = unknown> {
  description: string;
  paramsSchema: ZodType<Record<string, unknown>>;
  run(instance: ResolvedInstance<C, S>, req: ActionRequest): Promise<ActionOutcome>;
}

/** A read-only lookup used to enrich exceptions before routing (customer tier, order value, alternate stock). */
export interface ConnectorLookup<C = unknown, S = unknown> {
  description: string;
  /** Cache lifetime of a result. */
  ttlMs: number;
  run(instance: ResolvedInstance<C, S>, key: Record<string, string>, signal: AbortSignal): Promise<Record<string, unknown> | null>;
}

/** What the hub lends a connector type at start: its Redis (e.g. for request budgets shared by every process) and logger. */
export interface ConnectorRuntime {
  redisUrl: string;
  keyPrefix: string;
  log: Logger;
}

/** A request refused before anything is stored (bad signature, stale timestamp...). */
export class InboundRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** The content of a stored message cannot be interpreted; retrying will not help. */
export class PayloadError extends Error {
  constructor(readonly problem: PayloadProblem) {
    super(problem.reason);
  }
}

/**
 * The one contract every connector implements. Connectors live in connectors/<name>/ and are
 * registered in src/connectors/connector-catalog.ts; the core never branches on a connector type.
 */
export interface Connector<C = unknown, S = unknown> {
  readonly type: string;
  readonly description: string;
  /** Validates the instance's own plain config; `system` and `mapping` (CommonConnectorConfig) are checked by the core. */
  readonly configSchema: ZodType<C>;
  /** Validates the instance's secrets; they are sealed at rest and never returned by the API. */
  readonly secretsSchema: ZodType<S>;
  /**
   * Push connectors: authenticate an HTTP delivery and check its body before it is stored.
   * Throw InboundRefusal to refuse it; return `malformed` to store it but answer 400.
   */
  accept?(req: InboundRequest, instance: ResolvedInstance<C, S>): Acceptance;
  /**
   * File-style connectors: a raw message posted with an API key to POST /v1/connectors/{id}/messages.
   * Check the body cheaply (e.g. "does it start like X12?"); the pipeline does the real parsing.
   */
  acceptFile?(req: InboundRequest, instance: ResolvedInstance<C, S>): Acceptance;
  /**
   * Pipeline parse stage: the stored raw bytes into documents for the mapping, plus any findings
   * and acknowledgments. Throw PayloadError when the content cannot be read at all.
   */
  parse(raw: Buffer, instance: ResolvedInstance<C, S>, ctx: ConnectorContext): ParsedDocument[] | ParseOutcome | Promise<ParsedDocument[] | ParseOutcome>;
  /**
   * Scheduler: look for things that should have happened and did not (e.g. an acknowledgment
   * overdue). Each finding is attached, as an exception, to the message it concerns.
   */
  watch?(instance: ResolvedInstance<C, S>, ctx: WatchContext): Promise<{ messageId: string; finding: ConnectorFinding }[]>;
  /** Actions routing rules can call as `<connectorId>.<name>` (src/routing/rule-outputs.ts ActionSpec). */
  readonly actions?: Record<string, ConnectorAction<C, S>>;
  /** Enrichment lookups, by name. */
  readonly lookups?: Record<string, ConnectorLookup<C, S>>;
  /** Called once per hub start (every role) before any instance is used; `stop` at shutdown. */
  start?(runtime: ConnectorRuntime): void;
  stop?(): Promise<void>;
}
