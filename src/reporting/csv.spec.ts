import { csvCell, csvLine, csvStream } from './csv.js';
import { binMidpoint, binOf, quantile } from './cycle-histogram.js';

describe('CSV cells', () => {
  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['plain', 'plain'],
  ])('%j -> %j', (input, out) => expect(csvCell(input)).toBe(out));

  it('keeps numbers numeric, empties empty', () => {
    expect(csvLine([-5, 1.5, null, undefined, true])).toBe('-5,1.5,,,true\r\n');
  });

  it('streams rows with a header from the first row', async () => {
    let out = '';
    for await (const chunk of csvStream([{ a: 1, b: '=x' }, { a: 2, b: 'y' }])) out += chunk;
    expect(out).toBe("a,b\r\n1,'=x\r\n2,y\r\n");
  });
});

describe('cycle-time histogram', () => {
  it('bins minutes on a 1.2 log scale and reads quantiles from midpoints', () => {
    expect(binOf(0)).toBe(0);
    expect(binOf(60)).toBe(Math.floor(Math.log(61) / Math.log(1.2)));
    const bins = new Map<number, number>([[binOf(10), 1], [binOf(60), 1], [binOf(600), 1]]);
    expect(quantile(bins, 0.5)).toBeCloseTo(binMidpoint(binOf(60)), 1);
    expect(quantile(bins, 0.9)).toBeCloseTo(binMidpoint(binOf(600)), 1);
    expect(quantile(new Map(), 0.5)).toBeNull();
    for (const m of [5, 60, 600, 6000, 60000]) expect(Math.abs(binMidpoint(binOf(m)) - m) / m).toBeLessThan(0.1);
  });
});
