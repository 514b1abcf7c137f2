import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { readFile } from 'node:fs/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import { completeDraft } from '../canonical/exception-draft.js';
import { TAXONOMY, type ExceptionCode } from '../canonical/taxonomy.js';
import { ExceptionRecording, type AfterCommit } from '../cases/exception-recording.service.js';
import { ConfigError, HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { TextClassifier, type TriageModelFile } from './text-classifier.js';
import { TriageItem, type TriageStatus, type TriageSuggestion } from './triage-item.entity.js';

export interface TextIntake {
  text: string;
  channel: string;
  references: Record<string, string>;
  site?: string;
  businessUnit?: string;
  customerTier?: string;
}

export type ReviewDecision = { action: 'accept' } | { action: 'correct'; code: ExceptionCode; severity: 'info' | 'standard' | 'critical' } | { action: 'reject'; note: string };

/**
 * Governed triage of free text: the classifier suggests, the policy routes only confident
 * suggestions that make a valid canonical exception, a person decides the rest. The suggestion
 * (with model version) is kept on the triage item and on the exception; it is never the record of
 * who decided: an accepted or corrected item names its reviewer.
 */
@Injectable()
export class TriageDesk {
  private model?: TextClassifier;

  constructor(
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly recording: ExceptionRecording,
    private readonly audit: AuditTrail,
  ) {}

  async load(): Promise<string> {
    let file: TriageModelFile;
    try {
      file = JSON.parse(await readFile(this.cfg.triageModel, 'utf8'));
    } catch (e) {
      throw new ConfigError(`HUB_TRIAGE_MODEL "${this.cfg.triageModel}" cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run npm run build, which trains it`);
    }
    this.model = TextClassifier.restore(file);
    return file.version;
  }

  async submit(body: TextIntake, actor: Actor) {
    if (!this.model) throw new Error('triage model not loaded');
    const s = this.model.suggest(body.text);
    const suggestion: TriageSuggestion = { code: s.code, severity: s.severity, confidence: s.confidence, modelVersion: s.modelVersion, alternatives: s.alternatives.map((a) => ({ ...a, severity: s.severity })) };
    const item: TriageItem = Object.assign(new TriageItem(), {
      id: uuidv7(), status: 'pending' as TriageStatus, channel: body.channel, text: body.text,
      context: { references: body.references, site: body.site, businessUnit: body.businessUnit, customerTier: body.customerTier },
      suggestion, submittedBy: actor.id, receivedAt: new Date(), exceptionId: null, decidedBy: null, decidedAt: null, decision: null,
    });
    let after: AfterCommit | undefined;
    const out = await this.ds.transaction(async (m) => {
      let why = `confidence ${s.confidence} is below HUB_TRIAGE_MIN_CONFIDENCE ${this.cfg.triageMinConfidence}`;
      if (s.confidence >= this.cfg.triageMinConfidence) {
        const routed = await this.route(m, item, s.code as ExceptionCode, s.severity as 'standard');
        if (routed.ok) {
          item.status = 'routed';
          after = routed.after;
        } else why = `suggested ${s.code} lacks ${routed.problems}`;
      }
      await m.save(TriageItem, item);
      await this.audit.record(m, [{ actor, entityType: 'triage-item', entityId: item.id, action: 'triage.suggested', after: { suggestion, status: item.status, exceptionId: item.exceptionId, ...(item.status === 'pending' ? { review: why } : {}) } }]);
      return { ...item, ...(item.status === 'pending' ? { review: why } : {}) };
    });
    await this.recording.settle(after);
    return out;
  }

  async queue(status: TriageStatus, limit: number) {
    return { items: await this.ds.getRepository(TriageItem).find({ where: { status }, order: { receivedAt: 'ASC' }, take: limit }) };
  }

  async decide(id: string, d: ReviewDecision, actor: Actor) {
    let after: AfterCommit | undefined;
    const decided = await this.ds.transaction(async (m) => {
      const item = await m.findOne(TriageItem, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!item) throw new NotFoundException(`no triage item ${id}`);
      if (item.status !== 'pending') throw new ConflictException(`triage item is ${item.status}; only pending items can be decided`);
      item.decidedBy = actor.id;
      item.decidedAt = new Date();
      if (d.action === 'reject') {
        item.status = 'rejected';
        item.decision = { action: 'reject', note: d.note };
      } else {
        const code = (d.action === 'correct' ? d.code : item.suggestion.code) as ExceptionCode;
        const severity = d.action === 'correct' ? d.severity : (item.suggestion.severity as 'standard');
        const routed = await this.route(m, item, code, severity, actor);
        if (!routed.ok) throw new ConflictException(`${code} cannot be routed from this text: it lacks ${routed.problems}`);
        after = routed.after;
        item.status = 'decided';
        item.decision = { action: d.action, code, severity, agreesWithSuggestion: code === item.suggestion.code && severity === item.suggestion.severity };
      }
      await m.save(TriageItem, item);
      await this.audit.record(m, [{ actor, entityType: 'triage-item', entityId: id, action: `triage.${item.status}`, before: { status: 'pending' }, after: { status: item.status, decision: item.decision, exceptionId: item.exceptionId } }]);
      return item;
    });
    await this.recording.settle(after);
    return decided;
  }

  /** Makes the canonical exception and records it like any other (routed, its case with SLA clocks, tasks and actions), in the caller's transaction. */
  private async route(m: EntityManager, item: TriageItem, code: ExceptionCode, severity: 'info' | 'standard' | 'critical', reviewer?: Actor): Promise<{ ok: true; after: AfterCommit } | { ok: false; problems: string }> {
    const c = item.context as Omit<TextIntake, 'text' | 'channel'>;
    const draft = {
      code, severity, title: `${TAXONOMY[code].title}: ${item.text}`.slice(0, 200), description: item.text.slice(0, 4000),
      references: c.references ?? {}, site: c.site, businessUnit: c.businessUnit, customerTier: c.customerTier,
      attributes: { channel: item.channel, triageItem: item.id, ...(reviewer ? { reviewedBy: reviewer.id } : {}) },
    };
    const r = completeDraft(draft, {
      system: 'text-intake', connectorId: 'text-intake', connectorType: 'text-intake', messageId: item.id, documentType: item.channel,
      testMode: false, receivedAt: item.receivedAt, mapping: { id: 'triage', version: item.suggestion.modelVersion },
    });
    if (!r.ok) return { ok: false, problems: r.problems.map((p) => p.path).join(', ') };
    const { intake, after } = await this.recording.raise(m, [{ messageId: item.id, ordinal: 0, exception: r.exception }]);
    const exceptionId = intake.exceptionIds[0] ?? intake.repeats[0]?.exceptionId ?? null;
    if (exceptionId) await m.query(`UPDATE exceptions SET suggestion = $2 WHERE id = $1`, [exceptionId, JSON.stringify({ ...item.suggestion, reviewedBy: reviewer?.id ?? null })]);
    item.exceptionId = exceptionId;
    return { ok: true, after };
  }
}
