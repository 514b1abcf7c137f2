import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate856 } from '../../bench/lib/x12-generate.js';
import { buildDocument } from '../../connectors/x12/documents/index.js';
import { EnvelopeWalker } from '../../connectors/x12/envelope.js';
import { X12Tokenizer } from '../../connectors/x12/tokenizer.js';

/** Large generated 856s through the streaming reader: many notices, and one single huge notice. */
describe('large generated 856', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'x12-856-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function read(file: string) {
    let sets = 0;
    let findings = 0;
    let lines = 0;
    const walker = new EnvelopeWalker({
      onSet: (set, group, ic) => {
        sets++;
        findings += set.findings.length;
        const doc = buildDocument(set, {
          group: { version: group.version, controlNumber: group.controlNumber, senderCode: group.senderCode, receiverCode: group.receiverCode, functionalId: group.functionalId },
          interchange: { controlNumber: ic.controlNumber, senderId: ic.senderId, receiverId: ic.receiverId, usage: ic.usage },
        });
        if (doc?.type === 'ship_notice') lines += doc.lines.length;
      },
      onInterchangeEnd: (ic) => (findings += ic.findings.length),
      onGroupEnd: (g) => (findings += g.findings.length),
    });
    const tok = new X12Tokenizer((s) => walker.push(s));
    const text = readFileSync(file, 'utf8');
    // 64 KiB chunks, as a stream would deliver them.
    for (let i = 0; i < text.length; i += 65536) tok.write(text.slice(i, i + 65536));
    tok.end();
    walker.end();
    return { sets, findings, lines };
  }

  it('reads 8 MB of ship notices: every set, every item line, zero findings', () => {
    const g = generate856(path.join(dir, 'many.x12'), { mb: 8, seed: 1 });
    expect(read(g.path)).toEqual({ sets: g.sets, findings: 0, lines: g.items });
    expect(g.sets).toBeGreaterThan(100);
  });

  it('reads one 5 MB ship notice with thousands of HL levels', () => {
    const g = generate856(path.join(dir, 'single.x12'), { mb: 5, singleSet: true, newlines: true, seed: 2 });
    expect(read(g.path)).toEqual({ sets: 1, findings: 0, lines: g.items });
    expect(g.items).toBeGreaterThan(1000);
  });
});
