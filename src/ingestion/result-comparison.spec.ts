import { compareResults, isUnchanged, resultContent, type ResultItem } from './result-comparison.js';

const item = (code: string, key: string, severity = 'standard', team = 'warehouse-ops', extra: Record<string, unknown> = {}, version = '1.0.0'): ResultItem => ({
  code, severity, team, correlationKey: key, title: code, mapping: { id: 'm', version },
  content: resultContent({ code, correlationKey: key, title: code, mapping: { id: 'm', version }, ...extra }, severity, team),
});

describe('compareResults', () => {
  it('treats the same exception from another mapping version as unchanged', () => {
    const c = compareResults([item('A', 'k1')], [item('A', 'k1', 'standard', 'warehouse-ops', {}, '2.0.0')]);
    expect(isUnchanged(c)).toBe(true);
    expect(c.unchanged).toHaveLength(1);
  });

  it('pairs by code + correlation key first and names what changed', () => {
    const c = compareResults(
      [item('A', 'k1'), item('B', 'k2')],
      [item('B', 'k2', 'critical'), item('A', 'k1', 'standard', 'customer-service')],
    );
    expect(c.changed.map((x) => [x.before.code, x.fields])).toEqual([['B', ['severity']], ['A', ['team']]]);
  });

  it('pairs what is left in order (a code change), and reports the rest as appearing or disappearing', () => {
    const c = compareResults([item('A', 'k1'), item('C', 'k3')], [item('B', 'k9')]);
    expect(c.changed).toEqual([expect.objectContaining({ fields: ['code'] })]);
    expect(c.disappear.map((d) => d.code)).toEqual(['C']);
    expect(compareResults([], [item('A', 'k1')]).appear).toHaveLength(1);
  });

  it('reports a change of other content (references, quantities) as `content`', () => {
    const c = compareResults([item('A', 'k1', 'standard', 't', { quantities: { expected: 2 } })], [item('A', 'k1', 'standard', 't', { quantities: { expected: 3 } })]);
    expect(c.changed[0].fields).toEqual(['content']);
  });
});
