import { z } from 'zod';
import type { X12Interchange } from './model.js';

const Party = z.strictObject({
  /** ISA05/ISA07 qualifier, e.g. ZZ (mutually defined), 01 (DUNS), 12 (phone). */
  qualifier: z.string().regex(/^[A-Z0-9]{2}$/, 'must be a 2-character ISA qualifier such as ZZ or 01'),
  /** ISA06/ISA08 id, without padding. */
  id: z.string().min(1).max(15),
  /** GS02/GS03 application code; defaults to the ISA id. */
  appCode: z.string().min(2).max(15).optional(),
});

export const PartnerProfile = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and dashes'),
  name: z.string().min(1).max(200),
  /** The partner's side of the envelope (what they send as ISA05/06, GS02). */
  isa: Party,
  /** Functional acknowledgment to send for each group received: 997, 999 (5010 partners) or none. */
  ack: z.enum(['997', '999', 'none']).default('997'),
  /** TA1: when ISA14 asks for it (default), always, or never (a rejected interchange still gets one unless never). */
  ta1: z.enum(['on-request', 'always', 'never']).default('on-request'),
  /** A set with segment or element errors: rejected (R) or noted (E) and processed. */
  errorHandling: z.enum(['reject', 'note_errors']).default('reject'),
  duplicates: z
    .strictObject({
      /** reject: a resent interchange is not processed again (TA1 025); flag: its documents are kept but raise no business exceptions. */
      policy: z.enum(['reject', 'flag']).default('reject'),
      lookbackDays: z.number().int().min(1).max(3650).default(90),
      /** Also treat a repeated GS06 (group) control number from this partner as a duplicate. */
      groups: z.boolean().default(false),
    })
    .default({ policy: 'reject', lookbackDays: 90, groups: false }),
  /** Hours within which the partner must acknowledge what we send them (INTEGRATION.ACK_OVERDUE after). */
  ackWindowHours: z.number().positive().max(720).default(24),
});
export type PartnerProfile = z.infer<typeof PartnerProfile>;

export const X12Config = z.strictObject({
  /** Our side of the envelope: the receiver in what partners send, the sender of our acknowledgments. */
  us: Party,
  partners: z.array(PartnerProfile).default([]),
  /** Delimiters of the acknowledgments we send. */
  outbound: z
    .strictObject({ element: z.string().length(1).default('*'), component: z.string().length(1).default('>'), segment: z.string().length(1).default('~'), repetition: z.string().length(1).default('^') })
    .default({ element: '*', component: '>', segment: '~', repetition: '^' })
    .refine((d) => new Set(Object.values(d)).size === 4 && Object.values(d).every((c) => !/[A-Za-z0-9 ]/.test(c)), {
      message: 'element, component, segment and repetition separators must be four different characters, none a letter, digit or space',
    }),
});
export type X12Config = z.infer<typeof X12Config>;

const same = (a: string, b: string) => a.trim().toUpperCase() === b.trim().toUpperCase();

/** The partner profile for an interchange's sender, when it is addressed to us. */
/**
 * The partner profile for an interchange: its sender when it came to us, its receiver when it is a
 * copy of one we sent (direction outbound).
 */
export function partnerFor(cfg: X12Config, ic: X12Interchange, direction: 'inbound' | 'outbound' = 'inbound'): { partner?: PartnerProfile; problem?: string } {
  const sender = { q: ic.senderQualifier, id: ic.senderId, where: 'ISA05/ISA06' };
  const receiver = { q: ic.receiverQualifier, id: ic.receiverId, where: 'ISA07/ISA08' };
  const [ours, theirs] = direction === 'inbound' ? [receiver, sender] : [sender, receiver];
  if (!same(ours.q, cfg.us.qualifier) || !same(ours.id, cfg.us.id)) {
    const role = direction === 'inbound' ? 'addressed to' : 'sent by';
    return { problem: `interchange ${ic.controlNumber} is ${role} ${ours.q.trim()}/${ours.id.trim()} (${ours.where}), not us (${cfg.us.qualifier}/${cfg.us.id})` };
  }
  const partner = cfg.partners.find((p) => same(p.isa.qualifier, theirs.q) && same(p.isa.id, theirs.id));
  if (!partner) return { problem: `no trading partner profile for ${direction === 'inbound' ? 'sender' : 'receiver'} ${theirs.q.trim()}/${theirs.id.trim()} (${theirs.where})` };
  return { partner };
}
