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
  code:
    | 'INTEGRATION.EDI_SYNTAX_ERROR' | 'INTEGRATION.EDI_DUPLICATE' | 'INTEGRATION.EDI_REJECTED' | 'INTEGRATION.UNKNOWN_PARTNER'
    | 'INTEGRATION.MALFORMED_PAYLOAD' | 'INTEGRATION.ACK_OVERDUE' | 'INTEGRATION.CONNECTOR_DOWN' | 'INTEGRATION.FEED_SILENT';
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

/**
 * Polling (pull connectors: SFTP inboxes, ERP REST feeds). The core's poll scheduler (role
 * scheduler, src/ingestion/poll-scheduler.service.ts) calls `poll()` at the instance's interval,
 * at most once at a time per instance across all hub processes (a lease row in
 * connector_poll_state), with backoff after failures. A poll resolves with what it did or throws
 * PollFailure (or any error) to count as a failed poll; after `downAfterFailures` failures in a row
 * the core raises INTEGRATION.CONNECTOR_DOWN (routed like any exception) and resolves that case
 * when a poll succeeds again.
 */
export interface PollSettings {
  intervalMs: number;
  /** Consecutive failed polls before INTEGRATION.CONNECTOR_DOWN is raised. */
  downAfterFailures: number;
  /** Raise INTEGRATION.FEED_SILENT when no message has been ingested for this long (unset: never). */
  silentAfterMs?: number;
}

/** A message a poll found, in the hub's ordinary form: raw bytes kept, then processed by parse(). */
export interface PolledMessage {
  /** Unique per instance and stable across retries (e.g. `<file ledger id>:<batch number>`): ingest is idempotent on it. */
  key: string;
  body: Buffer;
  contentType?: string;
  /** Handed to parse() as ConnectorContext.meta. */
  meta?: Record<string, string>;
  /**
   * Hold the message back until `releaseGroup(group)` (e.g. all record batches of one file): staged
   * messages are invisible to the pipeline, so a file is processed only once it is wholly stored.
   */
  group?: string;
}

/** Outbound documents (acknowledgments) the pipeline produced for this instance and that still wait for delivery. */
export interface PendingOutbound {
  id: string;
  kind: string;
  partner: string;
  controlNumber: string;
  contentType: string;
  content: string;
  createdAt: Date;
}

export interface PollContext {
  now: Date;
  /** Aborted when the process stops or this process lost the instance's lease. */
  signal: AbortSignal;
  /** Stores the message durably (committed before it resolves). A key seen before: `duplicate` with the first id. */
  ingest(msg: PolledMessage): Promise<{ messageId: string; duplicate: boolean }>;
  /**
   * Makes a group's staged messages visible to the pipeline and enqueues them, in one transaction with
   * optional state writes (e.g. the file ledger entry "ingested"). Returns how many were released.
   */
  releaseGroup(group: string, state?: Record<string, unknown>): Promise<number>;
  /** Deletes a group's staged messages (e.g. the file turned out to duplicate an earlier one). */
  discardGroup(group: string, state?: Record<string, unknown>): Promise<number>;
  /** Per-instance persisted state (file ledgers, watermarks), JSON values by key. */
  state: {
    get<T = unknown>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string): Promise<void>;
    list<T = unknown>(prefix: string, limit?: number): Promise<{ key: string; value: T }[]>;
  };
  /** Raises an INTEGRATION exception not tied to an ingested message (e.g. a file refused before reading). */
  raise(finding: ConnectorFinding): Promise<void>;
  /** Acknowledgments and other outbound documents for this instance not yet delivered, oldest first. */
  pendingOutbound(limit?: number): Promise<PendingOutbound[]>;
  markDelivered(id: string, where: string): Promise<void>;
  /** Named points where tests can pause a poll (HUB_TEST_POLL_PAUSE); a no-op otherwise. */
  checkpoint(name: string): Promise<void>;
  /** Free-form facts shown in GET /v1/connectors/{id}/status (e.g. files waiting to become stable). */
  note(facts: Record<string, unknown>): void;
}

export interface PollOutcome {
  /** Messages ingested by this poll (new ones only). */
  ingested: number;
  /** Items seen but left for a later poll (e.g. files still being written). */
  deferred?: number;
  /** Outbound documents delivered. */
  delivered?: number;
}

/** A failed poll with a reason for the status page; `immediate` raises CONNECTOR_DOWN at once (e.g. host key mismatch). */
export class PollFailure extends Error {
  constructor(
    message: string,
    readonly kind: string = 'unavailable',
    readonly immediate = false,
  ) {
    super(message);
  }
}

/** Result of `POST /v1/connectors/{id}/test`. */
export interface ProbeResult {
  ok: boolean;
  message: string;
  details?: Record<string, unknown>;
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
  /**
   * False when the action certainly changed nothing in the target: it already was in the state asked
   * for (a hold that was there before), or it refused the request. The case then has nothing of its own
   * to undo later. Unset when not known.
   */
  changed?: boolean;
  /** Failed outcomes: not yet; run the action again after this many ms without counting an attempt. */
  waitMs?: number;
}

export interface ConnectorAction<C = unknown, S = unknown> {
  description: string;
  paramsSchema: ZodType<Record<string, unknown>>;
  /**
   * The action of the same connector this one reverses (a hold's release). Where the case's rule also ran
   * that action (same round, params containing this one's), this one runs only if that run changed the
   * target: a hold the case found already in place is left as it was found.
   */
  undoes?: string;
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
  /** Polling: how often and when to call it unhealthy; required with poll(). */
  pollSettings?(instance: ResolvedInstance<C, S>): PollSettings;
  /** Pull connectors: one poll of the source (see PollSettings). Must be idempotent: a crashed poll is simply run again. */
  poll?(instance: ResolvedInstance<C, S>, ctx: PollContext): Promise<PollOutcome>;
  /** `POST /v1/connectors/{id}/test`: try the connection and report what is there, changing nothing. */
  probe?(instance: ResolvedInstance<C, S>, signal: AbortSignal): Promise<ProbeResult>;
  /** Actions routing rules can call as `<connectorId>.<name>` (src/routing/rule-outputs.ts ActionSpec). */
  readonly actions?: Record<string, ConnectorAction<C, S>>;
  /** Enrichment lookups, by name. */
  readonly lookups?: Record<string, ConnectorLookup<C, S>>;
  /** Called once per hub start (every role) before any instance is used; `stop` at shutdown. */
  start?(runtime: ConnectorRuntime): void;
  stop?(): Promise<void>;
}
