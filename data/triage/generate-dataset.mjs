// Writes data/triage/labeled.jsonl: distributor free text (customer complaints, carrier notes, forwarded
// emails) labeled with canonical code + severity. Each line is one phrasing (template) filled with
// seeded names, numbers and openers/closers; `group` names the phrasing so the held-out split can hold
// out whole phrasings (no near-duplicate of a test line is ever trained on).
// Run once: node data/triage/generate-dataset.mjs (the output is committed; the build only trains).
import { writeFileSync } from 'node:fs';

let seed = 20261127;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const num = (a, b) => a + Math.floor(rnd() * (b - a + 1));

const F = {
  cust: ['Harbor Dental Supply', 'Pinecrest Hardware', 'Metro Foodservice', 'Lakeside Clinic', 'Summit Auto Parts', 'Bayview Grocers', 'Northgate Schools', 'Riverside Plumbing', 'Acme Janitorial', 'Greenfield Farms Co-op'],
  carrier: ['Old Dominion', 'Estes', 'FedEx Freight', 'XPO', 'Saia', 'R+L Carriers', 'UPS Ground', 'our own fleet'],
  sku: () => `${pick(['HX', 'PL', 'GL', 'MT', 'FD', 'SF'])}-${num(1000, 9999)}`,
  so: () => `SO-${num(100000, 999999)}`,
  po: () => `PO-${num(40000, 89999)}`,
  inv: () => `INV-${num(700000, 799999)}`,
  pro: () => `PRO ${num(10000000, 99999999)}`,
  qty: () => num(2, 400),
  day: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
  site: ['Reno DC', 'Dallas DC', 'Columbus DC', 'the Atlanta warehouse'],
  supplier: ['Nordic Gloves', 'Acme Fasteners', 'Pacific Paper', 'Delta Chemicals', 'Unity Medical'],
};
const opener = ['', '', 'Hi team, ', 'Hello, ', 'FW: ', 'Customer called: ', 'Note from driver: ', 'Per phone call - ', 'Email from customer: ', 'RE: order issue - '];
const closer = ['', '', ' Please advise.', ' Thanks.', ' Need an answer today.', ' Call me back please.', ' Regards', ' Can someone look into this?'];
const urgent = [' URGENT - their line is down.', ' This is critical, patient care supplies.', ' Production is stopped until this arrives.', ' Customer threatens to cancel the contract.', ' Recall-related, highest priority.', ' They need it before the store opens tomorrow or they lose the promotion.'];

const T = {
  'LOGISTICS.SHIPMENT_DELAY': [
    (f) => `Delivery for ${f.cust} is running late, the carrier is behind schedule this week.`,
    (f) => `ETA slipped again on ${f.pro}, now expected ${f.day} afternoon.`,
    (f) => `Truck is delayed at the border crossing, ${f.cust} will get it late.`,
    (f) => `The late shipment for ${f.so} still has not been delivered, carrier cannot give a new time.`,
    (f) => `${f.carrier} says the truck for ${f.so} will not make the delivery window, now ETA ${f.day}.`,
    (f) => `Shipment ${f.pro} missed the appointment at ${f.cust}; driver ran out of hours.`,
    (f) => `${f.cust} is asking where their delivery is, it was promised yesterday and tracking has not moved.`,
    (f) => `Load for ${f.so} is still sitting at the ${f.carrier} terminal, weather delay.`,
    (f) => `Our order ${f.so} has not arrived and we were told it would be here ${f.day}.`,
    (f) => `Driver reports a breakdown on the highway, delivery to ${f.cust} pushed to tomorrow.`,
    (f) => `Carrier rolled the pickup, freight for ${f.cust} leaves a day late.`,
    (f) => `Tracking for ${f.pro} shows no movement for three days, customer waiting.`,
  ],
  'LOGISTICS.SHIPMENT_HOLD': [
    (f) => `${f.pro} is held by the carrier for an address correction, cannot deliver until fixed.`,
    (f) => `Customs hold on the import for ${f.cust}, broker waiting on paperwork.`,
    (f) => `Freight on hold: carrier needs a delivery appointment number before release.`,
    (f) => `Shipment held for payment of the storage fees at the terminal.`,
    (f) => `${f.carrier} is holding ${f.pro} because the bill of lading is missing the hazmat class.`,
    (f) => `Shipment for ${f.cust} is on hold at customs, commercial invoice rejected.`,
    (f) => `Carrier refuses to release the freight until the accessorial charges are paid.`,
    (f) => `The pallet for ${f.so} is held at the dock, consignee address cannot be verified.`,
    (f) => `Customs broker needs the certificate of origin, container is held.`,
    (f) => `Freight held at terminal - receiver closed and no redelivery authorized.`,
    (f) => `${f.carrier} put ${f.pro} on hold pending inspection.`,
  ],
  'WAREHOUSE.DAMAGED_GOODS': [
    (f) => `Items arrived broken, ${f.qty} units of ${f.sku} cracked in the box.`,
    (f) => `The cartons were crushed in transit and the product inside is damaged.`,
    (f) => `Received damaged merchandise on ${f.so}, please send replacements.`,
    (f) => `Product came in with torn packaging and spoiled contents, ${f.cust} refused it.`,
    (f) => `${f.cust} received ${f.qty} cases of ${f.sku} crushed, boxes wet and torn.`,
    (f) => `Pallet arrived damaged, shrink wrap ripped and ${f.qty} units broken.`,
    (f) => `Customer sent photos: the ${f.sku} cartons are dented and product leaking.`,
    (f) => `Half the glass items in ${f.so} were shattered on arrival.`,
    (f) => `Forklift punctured two cartons of ${f.sku} during receiving at ${f.site}.`,
    (f) => `Received the order but the packaging was smashed and several items are unusable.`,
    (f) => `Driver noted visible damage on delivery receipt for ${f.pro}, freight refused.`,
    (f) => `Supplier shipment from ${f.supplier} came in with water damage, ${f.qty} boxes ruined.`,
  ],
  'WAREHOUSE.PICK_SHORTFALL': [
    (f) => `Missing ${f.qty} pieces of ${f.sku} from order ${f.so}, they were on the packing list.`,
    (f) => `We only received part of the order, the remaining items are missing.`,
    (f) => `Shipment came in short, ${f.sku} quantity is less than ordered.`,
    (f) => `${f.cust} reports items missing from the boxes, order incomplete.`,
    (f) => `We ordered ${f.qty} of ${f.sku} on ${f.so} but only got half, rest missing.`,
    (f) => `${f.cust} says the shipment was short ${f.qty} units, packing slip shows full quantity.`,
    (f) => `Order ${f.so} arrived incomplete, two lines were not in the boxes.`,
    (f) => `Picker could not find ${f.sku} in the bin at ${f.site}, line shipped short.`,
    (f) => `Customer is missing items from their delivery, ${f.sku} never showed up.`,
    (f) => `Short shipped again - we got ${f.qty} less than we paid for.`,
    (f) => `The case count does not match, we are short on ${f.sku}.`,
  ],
  'ORDER.PRICING_MISMATCH': [
    (f) => `The unit price on ${f.so} is wrong, should be the contract price.`,
    (f) => `Customer disputes the price on the order, quote was lower.`,
    (f) => `Wrong price charged for ${f.sku}, the discount is missing.`,
    (f) => `Price on the order acknowledgment does not match our agreement with ${f.cust}.`,
    (f) => `${f.cust} was charged list price on ${f.so} instead of their contract price for ${f.sku}.`,
    (f) => `The price on our order confirmation is higher than the quote we received.`,
    (f) => `Customer says the promo discount was not applied to ${f.so}.`,
    (f) => `Pricing on PO ${f.po} does not match the agreed price sheet.`,
    (f) => `We were quoted one price and the order shows a different unit price for ${f.sku}.`,
    (f) => `Contract pricing for ${f.cust} expired in the system, orders pricing at list.`,
    (f) => `Why did the price of ${f.sku} go up on this order? We have a fixed price agreement.`,
  ],
  'FINANCE.INVOICE_DISCREPANCY': [
    (f) => `Invoice ${f.inv} has the wrong quantity and amount, please correct.`,
    (f) => `We received a duplicate invoice for the same shipment.`,
    (f) => `The invoice amount is higher than the PO ${f.po}, AP will not pay it.`,
    (f) => `Billing error on ${f.inv}: charged for items that were returned.`,
    (f) => `Invoice ${f.inv} bills ${f.qty} units but we only received part of them.`,
    (f) => `We were invoiced twice for ${f.so}, please credit the duplicate.`,
    (f) => `${f.cust} disputes ${f.inv}: freight charge was supposed to be free.`,
    (f) => `The invoice total does not match the purchase order ${f.po}.`,
    (f) => `AP at ${f.cust} is holding payment, invoice has the wrong ship-to and tax amount.`,
    (f) => `Invoice shows items that were backordered and never shipped.`,
    (f) => `Please send a corrected invoice, the quantities on ${f.inv} are wrong.`,
  ],
  'ORDER.CREDIT_HOLD': [
    (f) => `Order ${f.so} is on credit hold, ${f.cust} asks when it will ship.`,
    (f) => `Credit hold is blocking all orders for ${f.cust}, payment was made.`,
    (f) => `Please release the credit hold, customer raised their limit.`,
    (f) => `Orders held because the account is past due, sales needs approval.`,
    (f) => `Why is ${f.so} not shipping? ${f.cust} says they paid and the order is still on credit hold.`,
    (f) => `Order stuck on hold, customer over their credit limit, sales asks for release.`,
    (f) => `${f.cust} cannot place orders, account blocked for past due balance.`,
    (f) => `Customer sent the check last week but their orders are still held by credit.`,
    (f) => `Credit department put ${f.so} on hold, rep needs it released today.`,
    (f) => `Account on credit hold after a payment bounced, orders pending.`,
  ],
  'MASTERDATA.INCOMPLETE_CUSTOMER': [
    (f) => `Customer account for ${f.cust} is incomplete, missing ship-to and billing details.`,
    (f) => `The customer master is missing a contact and address for deliveries.`,
    (f) => `Account setup incomplete: no tax ID and no payment terms for ${f.cust}.`,
    (f) => `Wrong address on the customer account, please update the ship-to.`,
    (f) => `New account ${f.cust} has no ship-to address set up, cannot release orders.`,
    (f) => `Customer record is missing the tax exemption certificate.`,
    (f) => `Ship-to for ${f.cust} has the wrong zip code, deliveries keep bouncing.`,
    (f) => `Please add the receiving hours and dock contact for ${f.cust}, carrier cannot schedule.`,
    (f) => `Billing contact and payment terms missing on the new customer setup.`,
    (f) => `Customer changed their address but the account still has the old one.`,
  ],
  'PROCUREMENT.SUPPLIER_DELIVERY_CHANGE': [
    (f) => `Supplier ${f.supplier} changed the delivery date for ${f.po} to next month.`,
    (f) => `Vendor delivery for ${f.sku} delayed, supplier gave a new date.`,
    (f) => `${f.supplier} is short on stock and will split ${f.po} into partial deliveries.`,
    (f) => `Our vendor cannot meet the promised date on ${f.po}, new date pending.`,
    (f) => `${f.supplier} pushed the delivery of ${f.po} out two weeks.`,
    (f) => `Supplier says ${f.sku} is backordered at their plant, new ship date next month.`,
    (f) => `${f.supplier} can only ship ${f.qty} of the ${f.qty} ordered on ${f.po} this week.`,
    (f) => `Vendor changed the ship date on ${f.po} without notice.`,
    (f) => `Our supplier moved the delivery to the ${f.site} to a later date, allocation issue.`,
    (f) => `${f.supplier} will deliver ${f.po} in two partial shipments instead of one.`,
  ],
};

const rows = [];
for (const [code, templates] of Object.entries(T)) {
  templates.forEach((t, ti) => {
    const n = 4;
    for (let k = 0; k < n; k++) {
      const f = { cust: pick(F.cust), carrier: pick(F.carrier), sku: F.sku(), so: F.so(), po: F.po(), inv: F.inv(), pro: F.pro(), qty: F.qty(), day: pick(F.day), site: pick(F.site), supplier: pick(F.supplier) };
      const critical = rnd() < 0.3;
      const text = `${pick(opener)}${t(f)}${critical ? pick(urgent) : ''}${pick(closer)}`.trim();
      rows.push({ text, code, severity: critical ? 'critical' : 'standard', group: `${code}#${ti}` });
    }
  });
}
writeFileSync(new URL('./labeled.jsonl', import.meta.url), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(`${rows.length} labeled lines`);
