import { readFileSync } from 'node:fs';

export const fixture = (path: string) => readFileSync(`test/fixtures/x12/${path}`);

/** A small 4010 interchange built for a test: segments joined with `~`, SE/GE/IEA counts computed. */
export function interchange(o: {
  from: string;
  to: string;
  isa13: number;
  gs06?: number;
  functionalId: string;
  sets: { id: string; control: string; body: string[]; seCount?: number }[];
  usage?: 'P' | 'T';
  ackRequested?: boolean;
}): string {
  const pad = (s: string, n: number) => s.padEnd(n, ' ');
  const isa13 = String(o.isa13).padStart(9, '0');
  const gs06 = String(o.gs06 ?? o.isa13);
  const segs = [
    `ISA*00*${pad('', 10)}*00*${pad('', 10)}*ZZ*${pad(o.from, 15)}*ZZ*${pad(o.to, 15)}*261127*1200*U*00401*${isa13}*${o.ackRequested ? 1 : 0}*${o.usage ?? 'P'}*>`,
    `GS*${o.functionalId}*${o.from}*${o.to}*20261127*1200*${gs06}*X*004010`,
  ];
  for (const s of o.sets) {
    const body = [`ST*${s.id}*${s.control}`, ...s.body];
    segs.push(...body, `SE*${s.seCount ?? body.length + 1}*${s.control}`);
  }
  segs.push(`GE*${o.sets.length}*${gs06}`, `IEA*1*${isa13}`);
  return segs.join('~\n') + '~\n';
}
