import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { X12FatInterchange, X12Parser } from 'node-x12';
import type { X12Interchange as NxInterchange } from 'node-x12';
import { walk } from '../../connectors/x12/envelope.js';
import type { X12Finding, X12Interchange } from '../../connectors/x12/model.js';
import { tokenize, X12SyntaxError } from '../../connectors/x12/tokenizer.js';

/**
 * Every public sample under test/fixtures/x12 goes through the tokenizer and the envelope walker.
 * Files without an entry in EXPECTED must produce no finding at any level; the others must produce exactly
 * the listed codes (TA1 = interchange note, AK9 = group, AK5 = set, AK3 = segment, AK4 = element).
 * Where SOURCES.md says something else than we report, the comment says what the bytes show.
 */
const ROOT = 'test/fixtures/x12';
const LABEL: Record<X12Finding['level'], string> = { interchange: 'TA1', group: 'AK9', set: 'AK5', segment: 'AK3', element: 'AK4' };

const EXPECTED: Record<string, string[] | X12SyntaxError['code']> = {
  // Two copies of one interchange: each is valid alone, together the second repeats the sender's ISA13 000003438.
  'aaronhuggins-node-x12/850_fat.edi': ['TA1 025'],
  'albmarin-badx12/bad_file.edi': 'NOT_X12',
  // SOURCES says "no terminator": the LF after ISA16 reads as a line-break terminator, so the ISA is fine and
  // what is really missing is everything after it (no GS, no IEA): premature end.
  'albmarin-badx12/segment_terminator.edi': ['TA1 023'],
  // HL/NM1/HL between GS and ST; SE01=13 also counts those three, while ST..SE holds 11 segments.
  'albmarin-badx12/unknown_segment_error.edi': ['AK3 2', 'AK5 4'],
  'azoner-pyx12/fail_no_IEA.txt': ['TA1 023', 'AK5 4'],
  // The ISA is 81 characters with the terminator (SOURCES counts 80 without it); ISA02, ISA04, ISA08 unpadded.
  'indice-co-edi-net/x12.810a.edi': ['TA1 022', 'TA1 011', 'TA1 013', 'TA1 008'],
  'indice-co-edi-net/x12.850.edi': ['TA1 001'],
  // ISA16 is missing: "~" is read as ISA16 and LF as terminator (a valid reading of the bytes), so every later
  // segment ends with the component separator. TA1 027 names the cause; the rest are its consequences:
  // GS08 "004010~" (024), IEA02/GE02 "…~" (001, AK9 4), ST02 "0001~" (AK5 7) and "~" ending each element.
  'indice-co-edi-net/x12.850.issue135.edi': ['TA1 027', 'TA1 024', 'TA1 001', 'AK9 4', 'AK5 7', 'AK3 8', 'AK4 6'],
  // SOURCES only mentions the ISA length; the bytes also carry IEA02 000000001 for ISA13 000000055.
  'indice-co-edi-net/x12.850a.edi': ['TA1 022', 'TA1 008', 'TA1 001'],
  // Inbound TA1s are checked too: TA101 "0659" (not 9 digits), TA102 CCYYMMDD where YYMMDD belongs, no TA105.
  'inteligenz-x12parser/Acknowledgments/TechnicalAcknowledgment_Sample1.txt': ['TA1 024'],
  // The TA1 carries a sixth element "+" (the component separator appended by the sender's writer).
  'inteligenz-x12parser/Acknowledgments/TechnicalAcknowledgment_SampleFromJeffN825.txt': ['TA1 024'],
  // AK2*837*002: AK202 (ST02) must be 4-9 characters.
  'inteligenz-x12parser/Acknowledgments/_999/DHS_Wisconsin_Sample.txt': ['AK3 8', 'AK4 4'],
  // ISA12 "00040" is not a control version (00400/00401 were meant).
  'inteligenz-x12parser/_810/Example5_Walmart.txt': ['TA1 017'],
  // ISA11 is a space; before 00402 it must be "U".
  'inteligenz-x12parser/_846/Example1.txt': ['TA1 016'],
  // Same ISA11; also two segment terminators are missing ("REF~ZZ~ASIAQTY…", "QTY~17~7280~FTCTT~5"), so CTT
  // merges into QTY: QTY03 "FTCTT" is too long and QTY02 with QTY04 breaks E0204. SE01 counts the merged data.
  'inteligenz-x12parser/_846/Example2.txt': ['TA1 016', 'AK3 8', 'AK4 5', 'AK4 10'],
  // SOURCES mentions GE02; the IEA02 940001777 does not match ISA13 398161180 either.
  'inteligenz-x12parser/_940/simplot.txt': ['TA1 001', 'AK9 4'],
  // GS has an extra element, so GS03 is empty, GS04 "000" and GS05 are no date/time (024) and GS06 is
  // 20021104 against GE02 31; ST02 "0003100001" is 10 characters.
  'inteligenz-x12parser/_945/inter-americanproducts.txt': ['TA1 024', 'AK9 4', 'AK5 7'],
  // PO106 without PO107 breaks the P0607 syntax note.
  'olmelabs-ediengine/850.SyntaxNotes.ERR.edi': ['AK3 8', 'AK4 2'],
  // W01 "elements shifted": W0101 missing, W0102 "1" and W0103 "EA" too short; SE01=12 for 9 segments.
  'olmelabs-ediengine/940_Failed_SE01.edi': ['AK3 8', 'AK4 1', 'AK4 4', 'AK5 4'],
  // The second 940 has an empty N901 (mandatory).
  'olmelabs-ediengine/AckTest.edi': ['AK3 8', 'AK4 1'],
  'olmelabs-ediengine/ControlNumbersMismatch.edi': ['TA1 001', 'AK9 4', 'AK5 3'],
  // Not flagged in SOURCES: both IEA02 ("3438", "3439") equal ISA13 as numbers but are not 9 digits. We compare
  // numerically (no 001) and report the fixed-width violation as TA1 018.
  'olmelabs-ediengine/MultipleInterchangesAndGroups.edi': ['TA1 018'],
  'olmelabs-ediengine/NonEdi.edi': 'NOT_X12',
  'olmelabs-ediengine/WrongGroupsAndTranCount.edi': ['TA1 021', 'TA1 018', 'AK9 5'],
  // 14-character IDs, zero date, 11-digit ISA13 (and IEA02), GS02/GS03 "0", GS04 "000000", 11-digit GS06, SE01=0.
  'silvenga-vscode-edi-x12-support/bad-header.edi': ['TA1 006', 'TA1 008', 'TA1 014', 'TA1 018', 'TA1 024', 'AK9 6', 'AK5 4'],
  // Not in SOURCES: IEA02 000000049 does not match ISA13 000003438.
  'walmartlabs-gozer/asn856.txt': ['TA1 001'],
  'walmartlabs-gozer/po850.txt': ['AK5 4'],
  // "TEST" is not a segment ID (2-3 characters); GE01 and SE01 counts are deliberately wrong.
  'walmartlabs-gozer/x12.base.no.line.breaks.txt': ['AK9 5', 'AK3 1', 'AK5 4'],
  'walmartlabs-gozer/x12.base.no.line.breaks.odd.char.txt': ['AK9 5', 'AK3 1', 'AK5 4'],
  'walmartlabs-gozer/x12.missing.ISA.txt': 'NOT_X12',
  'walmartlabs-gozer/x12.no.line.break.no.delim.txt': 'NO_TERMINATOR',
  'walmartlabs-gozer/x12.wrong.ISA.txt': 'NOT_X12',
  // A 997 without AK1 and AK9.
  'xlate-staedi/empty997.edi': ['AK3 3'],
  // AK302 and AK404 repeat, which the 997 does not allow.
  'xlate-staedi/extraDelimiter997.edi': ['AK3 8', 'AK4 12'],
  'xlate-staedi/invalid997.edi': ['AK3 8', 'AK4 5', 'AK4 6'],
  // GS04 BAD_DATE and GS05 295335 (TA1 024), GE02 mismatch, AK101 too long.
  'xlate-staedi/invalid997_min.edi': ['TA1 024', 'AK9 4', 'AK3 8', 'AK4 5'],
  // IK5 before AK1 (2), AK1 out of place (7), AK101 "HC   ", AK2 with 5 elements (3), IK5*Q (7), SE01=16 for 18.
  'xlate-staedi/invalid999.edi': ['AK3 2', 'AK3 7', 'AK3 8', 'AK4 5', 'AK4 3', 'AK4 7', 'AK5 4'],
  // SOURCES calls it valid, but IEA01=1 with no functional group: IEA01 counts GS..GE groups, not the TA1.
  'xlate-staedi/x12_interchange_ack.txt': ['TA1 021'],
};

interface SourceRow {
  file: string;
  counts?: { isa: number; gs: number; st: number };
}

/**
 * The fixture tables: SOURCES.md for the public samples, and a README.md with the same columns in a
 * subfolder (generated/) for fixtures written for this project. One row per file; "[ISA×a, GS×b, ST×c]"
 * in the note gives the expected structure.
 */
const docs = (dir = ROOT): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? docs(p) : f.endsWith('.md') ? [readFileSync(p, 'utf8')] : [];
  });

function sources(): SourceRow[] {
  return docs()
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith(`| ${ROOT}/`))
    .map((l) => {
      const cells = l.split(/(?<!\\)\|/).map((c) => c.trim());
      const m = /\[ISA×(\d+), GS×(\d+), ST×(\d+)\]/.exec(cells[5] ?? '');
      return { file: path.relative(ROOT, cells[1]), counts: m ? { isa: Number(m[1]), gs: Number(m[2]), st: Number(m[3]) } : undefined };
    });
}

function fixtures(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? fixtures(p) : f.endsWith('.md') ? [] : [path.relative(ROOT, p)];
  });
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const allFindings = (ics: X12Interchange[]) =>
  ics.flatMap((ic) => [...ic.findings, ...ic.groups.flatMap((g) => [...g.findings, ...g.sets.flatMap((s) => s.findings)])]);
const codes = (ics: X12Interchange[]) => [...new Set(allFindings(ics).map((f) => `${LABEL[f.level]} ${f.code}`))].sort();

const rows = sources();
const files = fixtures().sort();

describe('X12 sample files', () => {
  it('the fixture tables describe exactly the files on disk', () => {
    expect(rows.map((r) => r.file).sort()).toEqual(files);
  });

  it('every expectation names an existing file', () => {
    expect(Object.keys(EXPECTED).filter((f) => !files.includes(f))).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const expected = EXPECTED[file] ?? [];
    if (typeof expected === 'string') {
      expect(() => walk(read(file))).toThrow(X12SyntaxError);
      expect(() => walk(read(file))).toThrow(expect.objectContaining({ code: expected }));
      return;
    }
    const ics = walk(read(file));
    expect(codes(ics)).toEqual([...expected].sort());
    const counts = rows.find((r) => r.file === file)?.counts;
    if (counts) {
      expect({
        isa: ics.length,
        gs: ics.reduce((n, ic) => n + ic.groups.length, 0),
        st: ics.reduce((n, ic) => n + ic.groups.reduce((m, g) => m + g.sets.length, 0), 0),
      }).toEqual(counts);
    }
    // Every finding points at a real segment, and set-internal findings carry their X12 position (ST = 1).
    const segments = tokenize(read(file));
    for (const f of allFindings(ics)) {
      expect(segments[f.position.segmentIndex]?.offset).toBe(f.position.offset);
      if (f.level === 'segment' && f.position.setPosition !== undefined) expect(f.position.setPosition).toBeGreaterThan(1);
      if (f.level === 'element') expect(f.position.element).toBeGreaterThan(0);
    }
  });

  it('the files the tables call out as malformed all produce findings or tokenizer errors', () => {
    const malformed = docs()
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('MALFORMED'))
      .map((l) => path.relative(ROOT, l.split('|')[1].trim()));
    expect(malformed.length).toBeGreaterThan(10);
    expect(malformed.filter((f) => !EXPECTED[f] || EXPECTED[f].length === 0)).toEqual([]);
  });
});

/**
 * node-x12 as an independent oracle: on every sample its strict parser accepts, its interchange, group and
 * set structure, control numbers and segment counts must equal ours. Per the findings doc, a BOM and leading
 * whitespace are stripped first, and a missing final terminator is added (node-x12 silently drops an
 * unterminated last segment, and with it a whole interchange).
 */
describe('node-x12 agrees with the walker', () => {
  function nodeX12(file: string): { interchanges: NxInterchange[] } | { error: string } | undefined {
    let text = read(file).replace(/^\uFEFF/, '').replace(/^\s+/, '');
    let segs;
    try {
      segs = tokenize(text);
    } catch {
      return undefined;
    }
    const last = segs[segs.length - 1];
    if (last?.unterminated) text += last.delimiters.segment;
    try {
      const parsed = new X12Parser(true).parse(text);
      return { interchanges: parsed instanceof X12FatInterchange ? [...parsed.interchanges] : [parsed as NxInterchange] };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  const compared: string[] = [];
  afterAll(() => {
    // The oracle must actually have been consulted on a good share of the samples (49 today).
    expect(compared.length).toBeGreaterThanOrEqual(45);
  });

  it.each(files)('%s', (file) => {
    const theirs = nodeX12(file);
    if (!theirs) return;
    const ours = walk(read(file));
    if ('error' in theirs) {
      // node-x12's strict envelope checks name the first trailer it disagrees with: we must report that too.
      const named = /The value in (SE01|SE02|GE01|GE02|IEA01|IEA02)/.exec(theirs.error)?.[1];
      const code = { SE01: 'AK5 4', SE02: 'AK5 3', GE01: 'AK9 5', GE02: 'AK9 4', IEA01: 'TA1 021', IEA02: 'TA1 001' }[named ?? ''];
      if (code) expect(codes(ours)).toContain(code);
      return;
    }
    compared.push(file);
    expect(
      ours.map((ic) => ({
        isa13: String(Number(ic.controlNumber)),
        groups: ic.groups.map((g) => ({ gs06: g.controlNumber, sets: g.sets.map((s) => ({ st02: s.controlNumber, segments: s.segments.length })) })),
      })),
    ).toEqual(
      theirs.interchanges.map((ic) => ({
        // node-x12 keeps ISA13 as parseInt() of the value.
        isa13: String(Number(ic.header.valueOf(13))),
        groups: ic.functionalGroups.map((g) => ({
          gs06: g.header.valueOf(6),
          // node-x12's transaction segments exclude ST and SE; ours include them.
          sets: g.transactions.map((t) => ({ st02: t.header.valueOf(2), segments: t.segments.length + 2 })),
        })),
      })),
    );
  });
});
