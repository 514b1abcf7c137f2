import { add, finding } from './envelope-checks.js';
import type { X12TransactionSet } from './model.js';
import { checkSegment, type CheckContext } from './segment-checks.js';
import { SEGMENT_ID, SEGMENT_RULES, type SegmentRule, type SetSpec } from './set-specs.js';
import type { Segment } from './tokenizer.js';

/**
 * Content checks of one open transaction set (ST..SE), segment by segment: segment ID, interchange-level
 * segments, placement of the beginning segment, use counts, the element rules, and at the end the mandatory
 * segments. The EnvelopeWalker opens one per ST and closes it at SE (or where the SE should have been).
 *
 * Everything that depends only on the segment ID and the set's spec is decided once per ID and kept in a
 * plan, so a segment costs one map lookup before its element checks.
 */
interface TagPlan {
  /** SEGMENT_ID: two or three upper-case letters/digits starting with a letter. */
  segmentId: boolean;
  /** TA1/ISB/ISE: interchange level, never part of a set. */
  serviceSegment: boolean;
  /** False when the set's dictionary is closed (997/999) and does not hold this segment. */
  allowed: boolean;
  begin: boolean;
  /** Index into the set's use counters, or -1 when neither mandatory nor limited. */
  slot: number;
  maxUse: number;
  rule?: SegmentRule;
}

interface SpecPlans {
  plans: Map<string, TagPlan>;
  /** Mandatory segments with their counter slots, in the spec's order. */
  mandatory: { tag: string; slot: number }[];
  slots: Map<string, number>;
}

/** Plans are cached per segment ID; a file full of garbage IDs must not grow the cache without bound. */
const MAX_PLANS = 2048;
const bySpec = new WeakMap<SetSpec, SpecPlans>();
const unsupported: SpecPlans = { plans: new Map(), mandatory: [], slots: new Map() };

function specPlans(spec: SetSpec | undefined): SpecPlans {
  if (!spec) return unsupported;
  let p = bySpec.get(spec);
  if (!p) {
    const slots = new Map<string, number>();
    for (const tag of [...spec.mandatory, ...Object.keys(spec.maxUse)]) if (!slots.has(tag)) slots.set(tag, slots.size);
    p = { plans: new Map(), mandatory: spec.mandatory.map((tag) => ({ tag, slot: slots.get(tag)! })), slots };
    bySpec.set(spec, p);
  }
  return p;
}

function plan(tag: string, spec: SetSpec | undefined, p: SpecPlans): TagPlan {
  // The tokenizer hands out one internalized string per segment ID: this lookup does not hash the tag.
  const cached = p.plans.get(tag);
  if (cached) return cached;
  const segmentId = SEGMENT_ID.test(tag);
  const made: TagPlan = {
    segmentId,
    serviceSegment: tag === 'TA1' || tag === 'ISB' || tag === 'ISE',
    allowed: !spec?.closed || spec.closed.has(tag),
    begin: tag === spec?.begin,
    slot: p.slots.get(tag) ?? -1,
    maxUse: (segmentId && spec?.maxUse[tag]) || Infinity,
    rule: segmentId ? SEGMENT_RULES[tag] : undefined,
  };
  if (p.plans.size < MAX_PLANS) p.plans.set(tag, made);
  return made;
}

export class OpenSet {
  /** Segments so far, ST included: the X12 position of the last segment seen. */
  count = 1;
  private readonly plans: SpecPlans;
  private readonly uses: number[];

  constructor(
    readonly set: X12TransactionSet,
    private readonly spec: SetSpec | undefined,
    private readonly ctx: CheckContext,
  ) {
    this.plans = specPlans(spec);
    this.uses = new Array<number>(this.plans.slots.size).fill(0);
  }

  /** One segment inside ST..SE. A TA1 found here is also handed to `ta1` (it belongs to the interchange). */
  segment(seg: Segment, ta1: Segment[]): void {
    const setPosition = ++this.count;
    const f = this.set.findings;
    this.set.segments.push(seg);
    const tag = seg.tag;
    const spec = this.spec;
    const p = plan(tag, spec, this.plans);
    if (!p.segmentId) return add(f, finding('segment', '1', `"${tag}" is not a segment ID`, seg, { setPosition }));
    if (p.serviceSegment) {
      if (tag === 'TA1') ta1.push(seg);
      return add(f, finding('segment', '2', `${tag} is an interchange-level segment, not part of a transaction set`, seg, { setPosition }));
    }
    // Unsupported sets are acknowledged as such (AK5 1) by the ack builder; their content is not judged here.
    if (!spec) return;
    const uses = p.slot >= 0 ? ++this.uses[p.slot] : 1;
    if (!p.allowed) return add(f, finding('segment', '2', `${tag} is not used in a ${this.set.id}`, seg, { setPosition }));
    if (setPosition === 2 && !p.begin) add(f, finding('segment', '2', `${tag} before ${spec.begin}, which must follow ST`, seg, { setPosition }));
    else if (setPosition !== 2 && p.begin) add(f, finding('segment', '7', `${spec.begin} at position ${setPosition}, not right after ST`, seg, { setPosition }));
    if (uses > p.maxUse) add(f, finding('segment', '5', `${tag} used ${uses} times, at most ${p.maxUse}`, seg, { setPosition }));
    if (!p.rule) return;
    const problems = checkSegment(seg, p.rule, this.ctx);
    if (problems.length === 0) return;
    // The segment carries AK3 8; each element problem becomes an AK4 under it.
    add(f, finding('segment', '8', `${tag} has ${problems.length} data element error(s)`, seg, { setPosition }));
    for (const pr of problems) {
      const el = finding('element', pr.code, pr.message, seg, { setPosition, element: pr.element, component: pr.component });
      add(f, { ...el, elementRef: pr.ref, badValue: pr.value });
    }
  }

  /** AK3 3 for each mandatory segment never seen, reported at `end` (the SE, or where the set was cut). */
  checkMandatory(end: Segment): void {
    for (const { tag, slot } of this.plans.mandatory) {
      if (this.uses[slot] > 0) continue;
      // AK3 names the missing segment; its position is where it was due (right after ST for the beginning segment).
      const setPosition = tag === this.spec!.begin ? 2 : this.count;
      const missing = finding('segment', '3', `mandatory ${tag} is missing`, end, { setPosition });
      add(this.set.findings, { ...missing, position: { ...missing.position, tag } });
    }
  }
}
