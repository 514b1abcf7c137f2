import jsonata from 'jsonata';
import { guard, MappingFailure, runMapping, type LoadedMapping } from './mapping-registry.service.js';

const mapping = (src: string, timeoutMs = 100): LoadedMapping => {
  const expression = jsonata(src);
  guard(expression);
  return { manifest: { id: 'm', version: '1.0.0', description: '', source: { connectorType: 'x', documentTypes: ['t'] }, target: 'exception', timeoutMs }, dir: '', expression, lookups: {} };
};

describe('runaway mappings are stopped', () => {
  it.each([
    ['endless recursion', '($f := function($n){ $f($n+1) }; $f(0))'],
    ['deep but finite recursion, repeated', '($f := function($n){ $n > 0 ? $f($n-1) : 0 }; [1..200].($f(100000)))'],
    // Nested, so each step is small: a flat [1..9000000] spends ~0.4 s building the range in one
    // uninterruptible built-in call, which under a loaded CI made the wall-clock bound flaky.
    ['a huge loop', '$count([1..3000].([1..3000].($string($))))'],
  ])('%s', async (_name, src) => {
    const started = Date.now();
    await expect(runMapping(mapping(src), {}, { type: 't' })).rejects.toThrow(MappingFailure);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('leaves normal mappings alone, including concurrent evaluations of one expression', async () => {
    const m = mapping('{ "code": "WAREHOUSE.PICK_SHORTFALL", "references": { "order": order } }');
    const out = await Promise.all([1, 2, 3].map((n) => runMapping(m, { order: `SO-${n}` }, { type: 't' })));
    expect(out.map((o) => (o[0] as { references: { order: string } }).references.order)).toEqual(['SO-1', 'SO-2', 'SO-3']);
  });
});

describe('related documents are read only when the mapping looks at them', () => {
  const related = [{ type: 'warehouse_shipping_order', payload: { quantity: 7 } }];
  const run = async (src: string) => {
    let loads = 0;
    const out = await runMapping(mapping(src), { quantity: 5 }, { type: 't' }, async () => {
      loads++;
      return related;
    });
    return { out, loads };
  };

  it('a mapping that never reads $document.related maps without loading them', async () => {
    expect(await run('{ "code": "X", "title": $document.type & " " & $string(quantity) }')).toEqual({ out: [{ code: 'X', title: 't 5' }], loads: 0 });
  });

  it('a mapping that reads them (directly, through an error on the empty first run, or by serialising $document) gets them loaded', async () => {
    expect(await run('{ "ordered": $document.related[type = "warehouse_shipping_order"][0].payload.quantity }')).toEqual({ out: [{ ordered: 7 }], loads: 1 });
    expect(await run('$count($document.related) = 0 ? $error("needs the order") : { "n": $count($document.related) }')).toEqual({ out: [{ n: 1 }], loads: 1 });
    expect((await run('{ "doc": $string($document) }')).out).toEqual([{ doc: JSON.stringify({ type: 't', related }) }]);
  });
});
