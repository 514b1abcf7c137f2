import type { ErpSimulator } from './erp-simulator.js';

/** Sample master data and orders for tests and the demo (the article's pick-shortfall scenario). */
export function seedSample(sim: ErpSimulator): void {
  const d = sim.data;
  d.upsert('Customers', { CustomerId: 'C-1007', Name: 'Summit Hospital Supply', Tier: 'priority', CreditLimit: 250000, CreditUsed: 180500, Currency: 'USD', PaymentTerms: 'NET30', TaxId: '84-1234567', BillingAddress: '1 Summit Way, Reno NV' });
  d.upsert('Customers', { CustomerId: 'C-2001', Name: 'Corner Hardware', Tier: 'standard', CreditLimit: 20000, CreditUsed: 19900, Currency: 'USD', PaymentTerms: 'NET30', TaxId: '84-7654321', BillingAddress: '9 Main St, Sparks NV' });
  d.upsert('Customers', { CustomerId: 'C-3003', Name: 'Harbor Hardware', Tier: 'standard', CreditLimit: 5000, CreditUsed: 0, Currency: 'USD', PaymentTerms: 'NET30' });
  d.upsert('SalesOrders', { OrderId: 'SO-88123', CustomerId: 'C-1007', Status: 'Released', Site: 'RNO1', NetAmount: 48250, Currency: 'USD', CreditBlock: false, PricingStatus: 'OK', InvoiceHold: false });
  d.upsert('SalesOrders', { OrderId: 'SO-88124', CustomerId: 'C-2001', Status: 'Open', Site: 'RNO1', NetAmount: 1200, Currency: 'USD', CreditBlock: true, CreditBlockReason: 'credit limit exceeded', PricingStatus: 'OK', InvoiceHold: false });
  d.upsert('Inventory', { ItemSite: 'HX-2210@RNO1', Sku: 'HX-2210', Site: 'RNO1', Available: 0 });
  d.upsert('Inventory', { ItemSite: 'HX-2210@SAC2', Sku: 'HX-2210', Site: 'SAC2', Available: 40 });
  d.upsert('Inventory', { ItemSite: 'HX-2210@LAS1', Sku: 'HX-2210', Site: 'LAS1', Available: 6 });
}

/** `n` plain sales orders (no exception) for paging and benchmarks; every `every`th is on credit hold. */
export function seedOrders(sim: ErpSimulator, n: number, o: { every?: number; prefix?: string; modifiedAt?: string } = {}): void {
  for (let i = 1; i <= n; i++) {
    const id = `${o.prefix ?? 'SO-'}${String(i).padStart(6, '0')}`;
    const hold = o.every ? i % o.every === 0 : false;
    sim.data.upsert('SalesOrders', {
      OrderId: id, CustomerId: `C-${1000 + (i % 50)}`, Status: 'Open', Site: 'RNO1', NetAmount: 100 + (i % 900), Currency: 'USD',
      CreditBlock: hold, ...(hold ? { CreditBlockReason: 'credit limit exceeded' } : {}), PricingStatus: 'OK', InvoiceHold: false,
      ...(o.modifiedAt ? { ModifiedAt: o.modifiedAt } : {}),
    });
  }
}
