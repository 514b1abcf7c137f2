import { closeSync, openSync, writeSync } from 'node:fs';
import { prng } from './prng.js';

/**
 * Deterministic generator of a realistic 004010 856 (Ship Notice/Manifest) interchange for the X12
 * ingestion benchmark (issue 3). One ISA/GS; inside, either many ST..SE ship notices (the normal case:
 * a VAN mailbox drop) or one single huge set (the "large generated 856" stress case).
 *
 * Each notice follows the usual S-O-P-I pick-and-pack layout: BSN, DTMs, HL S with TD1/TD5/TD3/REF and
 * SF/ST N1 loops, several HL O with PRF/REF/N1 BY, HL P with MAN GM (SSCC-18 with its check digit), HL I
 * with LIN/SN1/PID, then CTT. Counts (SE01, GE01, IEA01) and control numbers are correct, so our
 * validator must report zero findings; the bench checks that.
 *
 * The file is written in ~1 MiB slices with writeSync, never held whole in memory: the 200 MB case is
 * meant to prove the reader streams, so the writer must not be the thing that needs the memory.
 */
export interface GenerateOptions {
  /** Target size in MB (10^6 bytes); generation stops at the first set boundary past it. */
  mb: number;
  /** One ST..SE holding the whole target size, instead of many ship notices. */
  singleSet?: boolean;
  /** "~\n" instead of "~": one segment per line, the other common layout. */
  newlines?: boolean;
  /** PRNG seed: the same options always produce the same bytes. */
  seed?: number;
}

export interface GenerateResult {
  path: string;
  bytes: number;
  sets: number;
  segments: number;
  /** HL I levels, i.e. the ship notice lines the canonical documents should contain. */
  items: number;
}


/** GS1 mod-10 check digit (UPC-A, GTIN, SSCC): weights 3,1,3,... from the right. */
function gs1(digits: string): string {
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return digits + ((10 - (sum % 10)) % 10);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

const CITIES = [
  ['COLUMBUS', 'OH', '43215'], ['MEMPHIS', 'TN', '38118'], ['RENO', 'NV', '89502'], ['ALLENTOWN', 'PA', '18106'],
  ['FORT WORTH', 'TX', '76177'], ['ONTARIO', 'CA', '91761'], ['JOLIET', 'IL', '60431'], ['SAVANNAH', 'GA', '31408'],
];
const PRODUCTS = ['WIDGET BLUE 12OZ', 'GADGET PRO CASE OF 6', 'SPROCKET ASSORTED', 'THERMAL MUG 16OZ BLACK', 'LED BULB 60W EQ 4PK', 'NOTEBOOK A5 RULED'];
const CARRIERS: [string, string, string][] = [['UPSN', 'M', 'UPS GROUND'], ['FDEG', 'M', 'FEDEX GROUND'], ['ODFL', 'M', 'OLD DOMINION LTL'], ['SCNN', 'M', 'SCHNEIDER TL']];

/** Writes the interchange to `path`; returns what the readers should find in it. */
export function generate856(path: string, o: GenerateOptions): GenerateResult {
  const rand = prng(o.seed ?? 856);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
  const target = o.mb * 1e6;
  const term = o.newlines ? '~\n' : '~';
  const fd = openSync(path, 'w');
  let pending: string[] = [];
  let pendingLen = 0;
  let bytes = 0;
  let segments = 0;
  let items = 0;
  /** Segments of the open set, ST included: SE01. */
  let inSet = 0;
  const flush = () => {
    if (!pending.length) return;
    // ASCII only, so string length equals byte length.
    writeSync(fd, pending.join(''));
    pending = [];
    pendingLen = 0;
  };
  const seg = (s: string) => {
    const line = s + term;
    pending.push(line);
    pendingLen += line.length;
    bytes += line.length;
    segments++;
    inSet++;
    if (pendingLen >= 1 << 20) flush();
  };

  const isa13 = pad(int(1, 999_999_999), 9);
  const gs06 = String(int(1, 999_999));
  // ISA is fixed-width (106 characters with its terminator); the IDs are padded to 15.
  const isa = `ISA*00*          *00*          *ZZ*${'ACMEDIST'.padEnd(15)}*ZZ*${'BIGRETAILER'.padEnd(15)}*240315*1405*U*00401*${isa13}*0*P*>`;
  if (isa.length !== 105) throw new Error(`generator bug: ISA is ${isa.length + 1} characters`);
  seg(isa);
  seg(`GS*SH*ACMEDIST*BIGRETAILER*20240315*1405*${gs06}*X*004010`);

  let sets = 0;
  let hl = 0;
  let sscc = int(1, 1e8);
  const openSet = () => {
    sets++;
    inSet = 0;
    hl = 0;
    const st02 = pad(sets, 4);
    seg(`ST*856*${st02}`);
    seg(`BSN*00*SHP${pad(sets, 9)}*20240315*${pad(int(6, 22), 2)}${pad(int(0, 59), 2)}*0001`);
    seg(`DTM*011*20240315*1405`);
    seg(`DTM*017*202403${pad(int(18, 28), 2)}`);
    return st02;
  };
  /** One HL S loop: packaging, carrier, references, ship-from and ship-to. */
  const shipment = () => {
    const id = ++hl;
    const [scac, method, name] = pick(CARRIERS);
    const [city, state, zip] = pick(CITIES);
    seg(`HL*${id}**S*1`);
    seg(`TD1*CTN25*${int(1, 60)}****G*${int(5, 2500)}.${int(0, 9)}*LB`);
    seg(`TD5*B*2*${scac}*${method}*${name}`);
    seg(`TD3*TL*ACMU*${pad(int(1, 999999), 7)}`);
    seg(`REF*BM*BOL${pad(sets, 10)}`);
    seg(`REF*CN*1Z${pad(int(0, 999999), 6)}${pad(int(0, 99999999), 10)}`);
    seg(`N1*SF*ACME DISTRIBUTION CENTER ${int(1, 9)}*92*DC0${int(1, 9)}`);
    seg(`N3*${int(100, 9999)} INDUSTRIAL PKWY`);
    seg(`N4*${city}*${state}*${zip}*US`);
    const store = int(1, 2400);
    seg(`N1*ST*BIG RETAILER STORE ${pad(store, 4)}*92*${pad(store, 4)}`);
    seg(`N3*${int(1, 999)} MAIN ST`);
    seg(`N4*${pick(CITIES)[0]}*${state}*${zip}*US`);
    return id;
  };
  /** One HL O with its packs and items; returns the HL count used. */
  const order = (parent: number, po: number) => {
    const id = ++hl;
    seg(`HL*${id}*${parent}*O*1`);
    seg(`PRF*PO${pad(po, 8)}***202403${pad(int(1, 14), 2)}`);
    seg(`REF*IV*INV${pad(po, 8)}`);
    seg(`N1*BY*BIG RETAILER*92*${pad(int(1, 2400), 4)}`);
    for (let p = int(1, 3); p > 0; p--) {
      const pack = ++hl;
      seg(`HL*${pack}*${id}*P*1`);
      // AI 00 + SSCC-18: extension digit, GS1 company prefix, serial, check digit.
      seg(`MAN*GM*00${gs1(`00614141${pad(++sscc % 1e9, 9)}`)}`);
      for (let it = int(1, 4), line = 1; it > 0; it--, line++) {
        seg(`HL*${++hl}*${pack}*I*0`);
        const qty = int(1, 48);
        seg(`LIN*${line}*UP*${gs1(pad(int(0, 99999999999), 11))}*VP*ACM-${pad(int(1, 99999), 5)}`);
        seg(`SN1*${line}*${qty}*EA**${qty + (rand() < 0.1 ? int(1, 12) : 0)}*EA**AC`);
        seg(`PID*F****${pick(PRODUCTS)}`);
        items++;
      }
    }
  };
  const closeSet = (st02: string) => {
    seg(`CTT*${hl}`);
    seg(`SE*${inSet + 1}*${st02}`);
  };

  let po = int(10_000_000, 20_000_000);
  if (o.singleSet) {
    const st02 = openSet();
    const s = shipment();
    while (bytes < target) order(s, ++po);
    closeSet(st02);
  } else {
    while (bytes < target) {
      const st02 = openSet();
      const s = shipment();
      for (let n = int(2, 5); n > 0; n--) order(s, ++po);
      closeSet(st02);
    }
  }
  if (sets > 999_999) throw new Error(`GE01 allows at most 999999 sets; ${sets} generated (lower --mb)`);
  seg(`GE*${sets}*${gs06}`);
  seg(`IEA*1*${isa13}`);
  flush();
  closeSync(fd);
  return { path, bytes, sets, segments, items };
}
