import type { Segment } from '../tokenizer.js';
import type { Party } from '../../../src/canonical/business-documents.js';
import { addExtra, codeAt, key, keyAt, text } from './values.js';

/** N101 entity identifier codes (element 98) with a role; any other code is kept as `code` with role 'other'. */
const ROLE_BY_CODE: Record<string, Party['role']> = {
  BY: 'buyer', SE: 'seller', ST: 'ship_to', SF: 'ship_from', BT: 'bill_to', RE: 'remit_to', RI: 'remit_to', SO: 'sold_to',
  VN: 'vendor', SU: 'supplier', WH: 'warehouse', DE: 'depositor', CN: 'consignee', SH: 'shipper', CA: 'carrier',
  OB: 'ordered_by', Z7: 'mark_for', MF: 'manufacturer', PR: 'payer', PE: 'payee',
};
const PARTY_LOOP = new Set(['N2', 'N3', 'N4', 'PER', 'G61', 'REF']);

/** An N1 loop from `start`: the N1 and the N2/N3/N4/PER/G61/REF that follow it, before `limit`. */
export function readParty(segs: readonly Segment[], start: number, limit = segs.length): { party: Party; end: number } {
  const n1 = segs[start];
  const role = codeAt(n1, 1)?.toUpperCase();
  const party: Party = { role: (role && ROLE_BY_CODE[role]) || 'other', code: role, name: text(n1, 2), idQualifier: codeAt(n1, 3), id: keyAt(n1, 4), extra: {} };
  let i = start + 1;
  for (; i < limit && PARTY_LOOP.has(segs[i].tag); i++) {
    const s = segs[i];
    if (s.tag === 'N2') pushTexts((party.names ??= []), s);
    else if (s.tag === 'N3' || s.tag === 'N4') {
      const a = (party.address ??= { lines: [] });
      if (s.tag === 'N3') pushTexts(a.lines, s);
      else {
        a.city = text(s, 1);
        a.state = keyAt(s, 2);
        a.postalCode = keyAt(s, 3);
        a.country = keyAt(s, 4);
      }
    } else if (s.tag === 'REF') addExtra(party.extra, `REF.${codeAt(s, 1) ?? ''}`, text(s, 2));
    else (party.contacts ??= []).push(contact(s));
  }
  return { party, end: i };
}

/** The texts of elements 1 and 2 that are present (N2 names, N3 address lines), without temporary arrays. */
function pushTexts(into: string[], s: Segment): void {
  const a = text(s, 1);
  const b = text(s, 2);
  if (a) into.push(a);
  if (b) into.push(b);
}

/** PER (function, name, then qualifier/number pairs) or G61 (function, name, one pair). */
function contact(s: Segment): NonNullable<Party['contacts']>[number] {
  const c: NonNullable<Party['contacts']>[number] = { function: codeAt(s, 1), name: text(s, 2) };
  for (let i = 3; i <= 7; i += 2) {
    const field = ({ TE: 'phone', EM: 'email', FX: 'fax' } as const)[codeAt(s, i) ?? ''];
    if (field && !c[field]) c[field] = key(text(s, i + 1));
  }
  return c;
}
