import { tokenize } from '../../connectors/x12/tokenizer.js';
import { buildDocument } from '../../connectors/x12/documents/index.js';
import { validateBusinessDocument } from '../../src/canonical/business-documents.js';
it('perf', () => {
  const isa = 'ISA*00*          *00*          *ZZ*A              *ZZ*B              *260312*0815*U*00401*000000417*0*P*>~';
  const parts = ['BSN*00*S1*20260312*0815*0001', 'HL*1**S', 'TD5**2*ODFL'];
  let hl = 2;
  for (let o = 0; o < 2000; o++) {
    const oid = hl++; parts.push(`HL*${oid}*1*O`, `PRF*PO${o}`);
    for (let p = 0; p < 5; p++) { const pid = hl++; parts.push(`HL*${pid}*${oid}*P`, `MAN*GM*0000${pid}`); const iid = hl++; parts.push(`HL*${iid}*${pid}*I`, `LIN*${p}*UP*012345678905*VN*V${p}`, `SN1**12*EA`); }
  }
  const text = isa + 'GS*SH*A*B*20260312*0815*1*X*004010~ST*856*0001~' + parts.join('~') + '~SE*1*0001~GE*1*1~IEA*1*000000417~';
  const segs = tokenize(text);
  const st = segs.findIndex((s) => s.tag === 'ST'); const se = segs.findIndex((s) => s.tag === 'SE');
  for (let r = 0; r < 4; r++) {
  const t0 = performance.now();
  const doc = buildDocument({ id: '856', controlNumber: '0001', segments: segs.slice(st, se + 1) }, { interchange: { controlNumber: '1', senderId: 'A', receiverId: 'B', usage: 'P' } })!;
  const t1 = performance.now();
  const ok = r === 3 && validateBusinessDocument(doc).ok;
  const t2 = performance.now();
  console.log(segs.length, 'segments', (doc as any).lines.length, 'lines build ms', Math.round(t1 - t0), 'validate ms', Math.round(t2 - t1), ok);
  }
});
