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
  /** Pipeline parse stage: the stored raw bytes into documents for the mapping. Throw PayloadError for bad content. */
  parse(raw: Buffer, instance: ResolvedInstance<C, S>): ParsedDocument[] | Promise<ParsedDocument[]>;
}
