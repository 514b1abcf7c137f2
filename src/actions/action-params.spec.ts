import { fillParams } from './action-params.js';

describe('action params from the opening exception', () => {
  const e = { code: 'WAREHOUSE.PICK_SHORTFALL', site: 'RNO1', customerTier: 'priority', references: { order: 'SO-88123', sku: 'HX-2210' }, quantities: { expected: 10, actual: 4 } } as any;

  it('replaces a whole reference by the value (numbers stay numbers) and inline references by text', () => {
    expect(fillParams({ order: '{{references.order}}', qty: '{{ quantities.expected }}', reason: 'short {{references.sku}} at {{site}}', fixed: 7, nested: { sku: '{{references.sku}}' }, list: ['{{site}}'] }, e)).toEqual({
      order: 'SO-88123', qty: 10, reason: 'short HX-2210 at RNO1', fixed: 7, nested: { sku: 'HX-2210' }, list: ['RNO1'],
    });
  });

  it('drops a param whose whole reference is missing (the action params schema then names it) and blanks inline ones', () => {
    expect(fillParams({ order: '{{references.po}}', text: 'PO {{references.po}}.' }, e)).toEqual({ text: 'PO .' });
  });

  it('leaves params alone without an exception', () => {
    expect(fillParams({ order: '{{references.order}}' }, undefined)).toEqual({ order: '{{references.order}}' });
  });
});
