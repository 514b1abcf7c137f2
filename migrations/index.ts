import { EventOutbox1795783087805 } from './1795783087805-EventOutbox.js';
import { InboundMessageMeta1795781232438 } from './1795781232438-InboundMessageMeta.js';
import { BusinessDocumentsAndConnectorState1795780138605 } from './1795780138605-BusinessDocumentsAndConnectorState.js';
import { Reporting1795797000000 } from './1795797000000-Reporting.js';
import { Initial1795778567251 } from './1795778567251-Initial.js';

// Every migration, in order. Generate with `npm run migration:generate -- migrations/<Name>`, review, then list it here.
export const MIGRATIONS = [Initial1795778567251, BusinessDocumentsAndConnectorState1795780138605, InboundMessageMeta1795781232438, EventOutbox1795783087805, Reporting1795797000000];
