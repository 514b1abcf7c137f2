import { z } from 'zod';
import type { Acceptance, Connector, ConnectorContext, ConnectorFinding, InboundRequest, OutboundDocument, ParsedDocument, ParseOutcome, ResolvedInstance, WatchContext } from '../../src/connectors/connector.js';
import { PayloadError } from '../../src/connectors/connector.js';
import type { BusinessDocument } from '../../src/canonical/business-documents.js';
import { build997, build999, buildTa1 } from './acks.js';
import { buildDocument } from './documents/index.js';
import { EnvelopeWalker } from './envelope.js';
import type { X12Finding, X12Group, X12Interchange } from './model.js';
import { reconcileAcks } from './ack-reconciliation.js';
import { isSupportedSet } from './set-specs.js';
import { X12Config, partnerFor, type PartnerProfile } from './partners.js';
import { X12SyntaxError, X12Tokenizer } from './tokenizer.js';

type Cfg = X12Config;

interface WalkedInterchange {
  ic: X12Interchange;
  groups: X12Group[];
  docs: WalkedDocument[];
}

interface WalkedDocument {
  doc: BusinessDocument;
  group?: X12Group;
  /** The set has segment/element errors only: processed when the partner's errorHandling is note_errors. */
  noted: boolean;
}

const CHUNK = 1 << 20;

/**
 * EDI X12 from trading partners (HTTP gateway now, SFTP files through the same parse path).
 * Our streaming tokenizer and envelope walker read and validate; node-x12's object model builds the
 * TA1/997/999 we send back; each accepted set becomes a canonical business document for mappings.
 */
export class X12Connector implements Connector<Cfg, Record<string, never>> {
  readonly type = 'x12';
  readonly description = 'EDI X12 interchanges: envelopes validated, TA1/997/999 acknowledgments, sets to canonical documents';
  readonly configSchema = X12Config;
  readonly secretsSchema = z.strictObject({});

  acceptFile(req: InboundRequest): Acceptance {
    // A cheap look at the head; the pipeline validates everything and keeps the raw bytes either way.
    const head = req.body.subarray(0, 64).toString('utf8').replace(/^[\s\ufeff\u00a0]+/, '');
    if (req.body.length === 0) return { malformed: { reason: 'the message is empty; an X12 interchange starting with ISA was expected' } };
    if (!head.startsWith('ISA')) return { malformed: { reason: `not X12: expected an ISA segment at the start, found "${head.slice(0, 20)}"`, position: { offset: 0 } } };
    return {};
  }

  async parse(raw: Buffer, instance: ResolvedInstance<Cfg, Record<string, never>>, ctx: ConnectorContext): Promise<ParseOutcome> {
    const walked = this.walk(raw);
    const out: ParseOutcome = { documents: [], findings: [], outbound: [] };
    for (const w of walked) await this.interchange(w, instance, ctx, out);
    return out;
  }

  /** Tokenize and walk the whole message, collecting documents per interchange. */
  private walk(raw: Buffer): WalkedInterchange[] {
    const result: WalkedInterchange[] = [];
    let current: WalkedInterchange | undefined;
    const walker = new EnvelopeWalker({
      onSet: (set, group, ic) => {
        if (!current || current.ic !== ic) result.push((current = { ic, groups: [], docs: [] }));
        const noted = !set.accepted && set.findings.every((f) => f.level === 'segment' || f.level === 'element');
        if (!set.accepted && !noted) return;
        const doc = buildDocument(set, {
          group: { version: group.version, controlNumber: group.controlNumber, senderCode: group.senderCode, receiverCode: group.receiverCode, functionalId: group.functionalId },
          interchange: { controlNumber: ic.controlNumber, senderId: ic.senderId, receiverId: ic.receiverId, usage: ic.usage, version: ic.version },
        });
        if (doc) current.docs.push({ doc, group, noted });
      },
      onGroupEnd: (group, ic) => {
        if (!current || current.ic !== ic) result.push((current = { ic, groups: [], docs: [] }));
        current.groups.push(group);
      },
      onInterchangeEnd: (ic) => {
        if (!current || current.ic !== ic) result.push((current = { ic, groups: [], docs: [] }));
        for (const seg of ic.ta1) {
          const doc = buildDocument({ id: 'TA1', controlNumber: '', segments: [seg] }, { interchange: { controlNumber: ic.controlNumber, senderId: ic.senderId, receiverId: ic.receiverId, usage: ic.usage } });
          if (doc) current.docs.push({ doc, noted: false });
        }
      },
    });
    const tokenizer = new X12Tokenizer((seg) => walker.push(seg));
    try {
      // Chunked like a stream: the same path serves files read from SFTP.
      const decoder = new TextDecoder('utf-8');
      for (let i = 0; i < raw.length; i += CHUNK) tokenizer.write(decoder.decode(raw.subarray(i, i + CHUNK), { stream: true }));
      tokenizer.write(decoder.decode());
      tokenizer.end();
      walker.end();
    } catch (e) {
      if (e instanceof X12SyntaxError) throw new PayloadError({ reason: e.message, position: { offset: e.offset } });
      throw e;
    }
    return result;
  }

  private async interchange(w: WalkedInterchange, instance: ResolvedInstance<Cfg, Record<string, never>>, ctx: ConnectorContext, out: ParseOutcome) {
    const { ic } = w;
    const cfg = instance.config;
    const testMode = ic.usage !== 'P';
    const outbound = ctx.meta.direction === 'outbound';
    const { partner, problem } = partnerFor(cfg, ic, outbound ? 'outbound' : 'inbound');
    if (!partner) {
      out.findings!.push({
        code: 'INTEGRATION.UNKNOWN_PARTNER',
        title: `X12 interchange ${ic.controlNumber} refused: ${problem}`.slice(0, 200),
        correlationKey: `unknown-partner:${instance.id}:${ic.senderQualifier.trim()}/${ic.senderId.trim()}`,
        attributes: { reason: problem, fix: `add a partner profile to connector ${instance.id}, then POST /v1/messages/${ctx.messageId}/replay`, isa: envelopeFacts(ic) },
        testMode,
        fails: true,
      });
      return;
    }
    if (outbound) return this.sentCopy(w, instance.id, partner, ctx, out, testMode);
    // Test and production traffic are separate worlds: a test interchange never duplicates a production one.
    const dup = await ctx.claim(`isa:${partner.id}:${ic.usage}:${Number(ic.controlNumber) || ic.controlNumber}`, partner.duplicates.lookbackDays);
    // Claimed by this very message: it was processed in an earlier run (a replay after a partner fix).
    if (dup?.self) return;
    let groupDups: string[] = [];
    if (!dup && partner.duplicates.groups) {
      for (const g of w.groups) {
        const prior = await ctx.claim(`gs:${partner.id}:${ic.usage}:${g.functionalId}:${Number(g.controlNumber) || g.controlNumber}`, partner.duplicates.lookbackDays);
        if (prior && !prior.self) groupDups.push(g.controlNumber);
      }
    }
    const duplicate = !!dup || groupDups.length > 0;
    if (duplicate) {
      out.findings!.push({
        code: 'INTEGRATION.EDI_DUPLICATE',
        title: `Duplicate X12 interchange ${ic.controlNumber} from ${partner.name}${groupDups.length ? ` (groups ${groupDups.join(', ')})` : ''}: ${partner.duplicates.policy === 'reject' ? 'rejected' : 'kept, no new exceptions'}`.slice(0, 200),
        correlationKey: `edi-duplicate:${instance.id}:${partner.id}:${ic.controlNumber}`,
        attributes: { partner: partner.id, interchange: ic.controlNumber, groups: groupDups, firstMessageId: dup?.messageId ?? null, firstSeenAt: dup?.seenAt ?? null, policy: partner.duplicates.policy },
        testMode,
        fails: false,
      });
    }
    const rejectDuplicate = duplicate && partner.duplicates.policy === 'reject';

    const problems = collectFindings(ic, w.groups);
    if (problems.length) out.findings!.push(syntaxFinding(instance.id, partner, ic, problems, testMode));

    // What the acknowledgments reject is not processed: a rejected interchange (TA1 R) or group (AK9 R), and
    // sets with errors unless the partner's errorHandling is note_errors (AK5 E).
    const icRejected = ic.findings.length > 0;
    const docs = w.docs
      .filter((d) => !icRejected && !(d.group && d.group.findings.some((f) => f.level === 'group')))
      .filter((d) => !d.noted || partner.errorHandling === 'note_errors')
      .map((d) => d.doc);
    if (!rejectDuplicate) {
      for (const doc of docs) out.documents.push(toParsed(doc, partner, testMode, duplicate));
      if (!duplicate) out.findings!.push(...(await reconcileAcks(docs, partner, instance.id, ctx, ic.usage)));
    }
    const { acks, failures } = await this.acks(w, partner, cfg, ctx, rejectDuplicate);
    out.outbound!.push(...acks);
    if (failures.length) {
      out.findings!.push({
        code: 'INTEGRATION.EDI_SYNTAX_ERROR',
        title: `No acknowledgment could be built for interchange ${ic.controlNumber} from ${partner.name}: ${failures[0]}`.slice(0, 200),
        correlationKey: `edi-syntax:${instance.id}:${partner.id}:${ic.controlNumber}`,
        attributes: { partner: partner.id, failures },
        testMode,
        fails: false,
      });
    }
  }

  /**
   * A copy of an interchange we (or the ERP) sent the partner: kept as outbound documents so the
   * partner's 997/999/TA1 can be reconciled against it; it raises no business exceptions and gets no ack.
   */
  private async sentCopy(w: WalkedInterchange, connectorId: string, partner: PartnerProfile, ctx: ConnectorContext, out: ParseOutcome, testMode: boolean) {
    await ctx.claim(`sent:${partner.id}:isa:${Number(w.ic.controlNumber) || w.ic.controlNumber}`, partner.duplicates.lookbackDays);
    // Each group we sent expects the partner's 997/999 within ackWindowHours (see watch()).
    if (partner.ack !== 'none') {
      for (const g of w.groups) await ctx.claim(`expect:${partner.id}:gs:${g.controlNumber.replace(/^0+(?=\d)/, '')}:${w.ic.usage}`, 3650);
    }
    const problems = collectFindings(w.ic, w.groups);
    if (problems.length) out.findings!.push(syntaxFinding(connectorId, partner, w.ic, problems, testMode));
    for (const { doc } of w.docs) {
      const p = toParsed(doc, partner, testMode, true);
      out.documents.push({ ...p, payload: { ...(p.payload as object), direction: 'outbound', duplicate: undefined } });
    }
  }

  /** Scheduler: groups we sent whose acknowledgment is overdue become INTEGRATION.ACK_OVERDUE on the outbound copy. */
  async watch(instance: ResolvedInstance<Cfg, Record<string, never>>, ctx: WatchContext) {
    const out: { messageId: string; finding: ConnectorFinding }[] = [];
    for (const partner of instance.config.partners) {
      const prefix = `expect:${partner.id}:gs:`;
      for (const c of await ctx.claims(prefix)) {
        const waited = ctx.now.getTime() - c.claimedAt.getTime();
        if (waited < partner.ackWindowHours * 3_600_000) break;
        const [group, usage] = c.key.slice(prefix.length).split(':');
        await ctx.release(c.key);
        if (!(await ctx.claimOnce(`overdue:${partner.id}:gs:${group}`, c.messageId))) continue;
        out.push({
          messageId: c.messageId,
          finding: {
            code: 'INTEGRATION.ACK_OVERDUE',
            title: `No 997/999 from ${partner.name} for group ${group} after ${Math.round(waited / 60_000)} min (window ${partner.ackWindowHours} h)`.slice(0, 200),
            correlationKey: `ack-overdue:${instance.id}:${partner.id}`,
            attributes: { partner: partner.id, group, sentAt: c.claimedAt.toISOString(), windowHours: partner.ackWindowHours },
            testMode: usage !== undefined && usage !== 'P',
            fails: false,
          },
        });
      }
    }
    return out;
  }

  private async acks(w: WalkedInterchange, partner: PartnerProfile, cfg: Cfg, ctx: ConnectorContext, rejectDuplicate: boolean): Promise<{ acks: OutboundDocument[]; failures: string[] }> {
    const { ic } = w;
    const acks: OutboundDocument[] = [];
    const failures: string[] = [];
    const icRejected = ic.findings.length > 0;
    const sender = { qualifier: cfg.us.qualifier, id: cfg.us.id, appCode: cfg.us.appCode ?? cfg.us.id };
    const receiver = { qualifier: partner.isa.qualifier, id: partner.isa.id, appCode: partner.isa.appCode ?? partner.isa.id };
    const delimiters = cfg.outbound;
    const wantTa1 = partner.ta1 === 'always' || (partner.ta1 === 'on-request' && (ic.ackRequested || icRejected || rejectDuplicate));
    if (wantTa1) {
      const noteCode = (rejectDuplicate ? '025' : (ic.findings[0]?.code ?? '000')) as Parameters<typeof buildTa1>[1]['noteCode'];
      const isa13 = await ctx.nextCounter(`isa13:${partner.id}`);
      const content = buildTa1(ic, { accepted: !icRejected && !rejectDuplicate, noteCode, controlNumbers: { isa13 }, sender, receiver, delimiters });
      acks.push({ kind: 'TA1', content, contentType: 'application/edi-x12', partner: partner.id, controlNumber: String(isa13).padStart(9, '0') });
    }
    if (partner.ack === 'none' || rejectDuplicate) return { acks, failures };
    // Acknowledgments are never acknowledged: FA groups (997/999) get no 997 back.
    for (const group of w.groups.filter((g) => g.functionalId !== 'FA')) {
      const isa13 = await ctx.nextCounter(`isa13:${partner.id}`);
      const gs06 = await ctx.nextCounter(`gs06:${partner.id}`);
      const options = { controlNumbers: { isa13, gs06, st02: 1 }, sender, receiver, delimiters, handling: partner.errorHandling };
      try {
        const content = partner.ack === '999' ? build999(group, ic, options) : build997(group, ic, options);
        acks.push({ kind: partner.ack, content, contentType: 'application/edi-x12', partner: partner.id, controlNumber: String(isa13).padStart(9, '0') });
      } catch (e) {
        // A group too broken to acknowledge (e.g. a non-numeric GS06) is reported, not retried forever.
        failures.push(`group ${group.controlNumber}: ${(e as Error).message}`);
      }
    }
    return { acks, failures };
  }
}

function toParsed(doc: BusinessDocument, partner: PartnerProfile, testMode: boolean, duplicate: boolean): ParsedDocument {
  const d = doc as BusinessDocument & { poNumber?: string; shipmentId?: string; depositorOrderNumber?: string; invoiceNumber?: string };
  return {
    documentType: doc.type,
    payload: { ...doc, partner: partner.id, ...(duplicate ? { duplicate: true } : {}) },
    testMode,
    skipMapping: duplicate,
    store: { partner: partner.id, poNumber: d.poNumber, shipmentId: d.shipmentId, depositorOrder: d.depositorOrderNumber, invoiceNumber: d.invoiceNumber },
  };
}

function collectFindings(ic: X12Interchange, groups: X12Group[]): X12Finding[] {
  // A set we do not read is acknowledged R with AK5 1; say so here too, or it would vanish silently.
  const unsupported = (s: X12Group['sets'][number]): X12Finding[] =>
    isSupportedSet(s.id) || s.findings.some((f) => f.level === 'set' && f.code === '1')
      ? []
      : [{ level: 'set', code: '1', message: `transaction set ${s.id} is not supported by this connector`, position: s.findings[0]?.position ?? { segmentIndex: -1, offset: -1 } }];
  const sets = groups.flatMap((g) => g.sets.flatMap((s) => [...unsupported(s), ...s.findings].map((f) => ({ ...f, set: `${s.id}/${s.controlNumber}`, group: g.controlNumber }))));
  return [...ic.findings, ...groups.flatMap((g) => g.findings.map((f) => ({ ...f, group: g.controlNumber }))), ...sets];
}

function syntaxFinding(connectorId: string, partner: PartnerProfile, ic: X12Interchange, problems: X12Finding[], testMode: boolean): ConnectorFinding {
  const first = problems[0];
  return {
    code: 'INTEGRATION.EDI_SYNTAX_ERROR',
    title: `X12 from ${partner.name}, interchange ${ic.controlNumber}: ${problems.length} error(s); first: ${first.message}`.slice(0, 200),
    correlationKey: `edi-syntax:${connectorId}:${partner.id}:${ic.controlNumber}`,
    attributes: {
      partner: partner.id,
      interchange: envelopeFacts(ic),
      errors: problems.slice(0, 100).map((f) => ({ level: f.level, code: f.code, message: f.message, position: f.position, elementRef: f.elementRef, badValue: f.badValue })),
      more: Math.max(0, problems.length - 100),
    },
    testMode,
    fails: false,
  };
}

function envelopeFacts(ic: X12Interchange) {
  return { sender: `${ic.senderQualifier.trim()}/${ic.senderId.trim()}`, receiver: `${ic.receiverQualifier.trim()}/${ic.receiverId.trim()}`, controlNumber: ic.controlNumber, date: ic.date, time: ic.time, version: ic.version, usage: ic.usage };
}
