import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { completeDraft, integrationException, mappingFailed, type SourceContext } from '../canonical/exception-draft.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { PayloadError, type ConnectorFinding, type OutboundDocument, type ParsedDocument, type ParseOutcome } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { ConnectorState } from '../connectors/connector-state.service.js';
import { DocumentLedger } from '../documents/document-ledger.service.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { MappingFailure, runMapping, type LoadedMapping } from '../mapping/mapping-registry.service.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import type { MessageError } from './inbound-message.entity.js';

export interface LockedMessage {
  id: string;
  connector_id: string;
  connector_type: string;
  sender_event_id: string | null;
  raw: Buffer | null;
  received_at: Date;
  exception_count: number;
  meta: Record<string, string> | null;
}

export interface Interpretation {
  exceptions: CanonicalException[];
  /** Documents the connector asked to keep as canonical business documents. */
  documents: ParsedDocument[];
  outbound: OutboundDocument[];
  documentTypes: string[];
  testMode: boolean;
  failed: boolean;
  errors: MessageError[];
  mappingId: string | null;
}

/**
 * Parse and map one stored message: connector → documents, findings, acknowledgments; mapping →
 * exception drafts → validated canonical exceptions. Content problems become INTEGRATION
 * exceptions and a `failed` flag, never thrown errors; only infrastructure errors throw.
 */
@Injectable()
export class MessageInterpreter {
  constructor(
    private readonly instances: ConnectorInstances,
    private readonly state: ConnectorState,
    private readonly mappings: ActiveArtifacts,
    private readonly documents: DocumentLedger,
    private readonly metrics: HubMetrics,
  ) {}

  /** `opts.mapping`: a candidate version used instead of the active one (regression diff). */
  async interpret(m: EntityManager, msg: LockedMessage, opts: { mapping?: LoadedMapping } = {}): Promise<Interpretation> {
    const errors: MessageError[] = [];
    const at = new Date().toISOString();
    const instance = await this.instances.resolve(msg.connector_id);
    // The version in force for this connector instance and document type (ActiveArtifacts).
    const mappingFor = (documentType = '*'): LoadedMapping | undefined => {
      if (!instance) return undefined;
      if (opts.mapping?.manifest.id === instance.config.mapping) return opts.mapping;
      return this.mappings.mapping(instance.config.mapping, instance.id, documentType);
    };
    const used = new Set<string>();
    const receivedAt = new Date(msg.received_at);
    const ctx = (documentType: string, testMode: boolean): SourceContext => ({
      system: instance?.config.system ?? msg.connector_id,
      connectorId: msg.connector_id,
      connectorType: msg.connector_type,
      messageId: msg.id,
      documentType,
      testMode,
      senderEventId: msg.sender_event_id ?? undefined,
      receivedAt,
      mapping: refOf(mappingFor(documentType), instance?.config.mapping),
    });
    const result = (over: Partial<Interpretation>): Interpretation => ({
      exceptions: [], documents: [], outbound: [], documentTypes: [], testMode: false, failed: false, errors,
      mappingId: [...used].join(',') || label(mappingFor()), ...over,
    });
    const fail = (stage: MessageError['stage'], exception: CanonicalException, message: string, position?: MessageError['position']) => {
      errors.push({ stage, message, at, ...(position ? { position } : {}) });
      return result({ exceptions: [exception], failed: true });
    };

    if (!instance) {
      return fail('parse', mappingFailed(ctx('unknown', false), `connector instance ${msg.connector_id} no longer exists`, {}), `connector instance ${msg.connector_id} not found`);
    }
    const t0 = performance.now();
    let outcome: ParseOutcome;
    try {
      const parsed = await this.instances
        .connectorFor(instance.type)
        .parse(msg.raw ?? Buffer.alloc(0), instance, this.state.contextFor(m, instance.id, msg.id, receivedAt, msg.meta ?? {}));
      outcome = Array.isArray(parsed) ? { documents: parsed } : parsed;
    } catch (e) {
      if (!(e instanceof PayloadError)) throw e;
      const exc = integrationException('INTEGRATION.MALFORMED_PAYLOAD', ctx('unparsed', false), {
        title: `Malformed message from ${instance.name}: ${e.problem.reason}`,
        correlationKey: `malformed:${msg.connector_id}`,
        attributes: { reason: e.problem.reason, position: e.problem.position ?? null, rawMessageId: msg.id },
      });
      return fail('parse', exc, e.problem.reason, e.problem.position);
    } finally {
      this.metrics.stageDuration.observe({ stage: 'parse' }, (performance.now() - t0) / 1000);
    }
    const docs = outcome.documents;
    const testMode = docs.some((d) => d.testMode) || (outcome.findings ?? []).some((f) => f.testMode);
    const exceptions: CanonicalException[] = (outcome.findings ?? []).map((f) => this.findingException(f, ctx(docs[0]?.documentType ?? 'envelope', f.testMode ?? testMode)));
    let failed = (outcome.findings ?? []).some((f) => f.fails);
    for (const f of outcome.findings ?? []) if (f.fails) errors.push({ stage: 'parse', message: f.title, at });
    const base = { documents: docs.filter((d) => d.store), outbound: outcome.outbound ?? [], documentTypes: [...new Set(docs.map((d) => d.documentType))], testMode };

    const toMap = docs.filter((d) => !d.skipMapping);
    if (toMap.some((d) => !mappingFor(d.documentType))) {
      exceptions.push(mappingFailed(ctx(toMap[0].documentType, testMode), `mapping "${instance.config.mapping}" is not loaded`, { rawMessageId: msg.id }));
      errors.push({ stage: 'map', message: `mapping ${instance.config.mapping} not found`, at });
      return result({ ...base, exceptions, failed: true });
    }
    const t1 = performance.now();
    for (const doc of toMap) {
      const c = ctx(doc.documentType, doc.testMode ?? false);
      const mapping = mappingFor(doc.documentType)!;
      used.add(`${mapping.manifest.id}@${mapping.manifest.version}`);
      try {
        // Related documents are read only when the mapping looks at them (runMapping).
        const store = doc.store;
        const drafts = await runMapping(
          mapping,
          doc.payload,
          { type: doc.documentType, connectorId: instance.id, system: instance.config.system, testMode: doc.testMode ?? false, related: [] },
          store ? () => this.documents.relatedTo(m, instance.id, store, doc.testMode ?? false) : undefined,
        );
        for (const draft of drafts) {
          const out = completeDraft(draft, c);
          exceptions.push(out.exception);
          if (!out.ok) {
            failed = true;
            errors.push({ stage: 'map', message: out.problems.map((p) => `${p.path}: ${p.message}`).join('; '), at });
          }
        }
      } catch (e) {
        if (!(e instanceof MappingFailure)) throw e;
        failed = true;
        errors.push({ stage: 'map', message: e.message, at });
        exceptions.push(mappingFailed(c, e.message, { ...e.detail, rawMessageId: msg.id }));
      }
    }
    this.metrics.stageDuration.observe({ stage: 'map' }, (performance.now() - t1) / 1000);
    return result({ ...base, exceptions, failed });
  }

  private findingException(f: ConnectorFinding, c: SourceContext): CanonicalException {
    const exc = integrationException(f.code, c, { title: f.title, correlationKey: f.correlationKey, attributes: { ...f.attributes, rawMessageId: c.messageId } });
    return { ...exc, references: { ...(f.references ?? {}) } };
  }
}

const refOf = (m: LoadedMapping | undefined, id: string | undefined) =>
  m ? { id: m.manifest.id, version: m.manifest.version } : { id: id ?? 'none', version: 'none' };
const label = (m: LoadedMapping | undefined) => (m ? `${m.manifest.id}@${m.manifest.version}` : null);
