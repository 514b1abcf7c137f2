import { Initial1795778567251 } from './1795778567251-Initial.js';
import { BusinessDocumentsAndConnectorState1795780138605 } from './1795780138605-BusinessDocumentsAndConnectorState.js';
import { InboundMessageMeta1795781232438 } from './1795781232438-InboundMessageMeta.js';
import { EventOutbox1795783087805 } from './1795783087805-EventOutbox.js';
import { VersionedArtifacts1795791000000 } from './1795791000000-VersionedArtifacts.js';
import { DocumentMatching1795792000000 } from './1795792000000-DocumentMatching.js';
import { RoutingNoiseTriage1795793000000 } from './1795793000000-RoutingNoiseTriage.js';
import { SlaClocksTasksActions1795794000000 } from './1795794000000-SlaClocksTasksActions.js';
import { DeliveryAndAuditChain1795795000000 } from './1795795000000-DeliveryAndAuditChain.js';
import { PollingConnectors1795796000000 } from './1795796000000-PollingConnectors.js';
import { Reporting1795797000000 } from './1795797000000-Reporting.js';
import { AuditSeals1795798000000 } from './1795798000000-AuditSeals.js';
import { ReportingCoarseRollups1795799000000 } from './1795799000000-ReportingCoarseRollups.js';
import { DeliveryFreshQueue1795801000000 } from './1795801000000-DeliveryFreshQueue.js';
import { DocumentMatchLines1795811051101 } from './1795811051101-DocumentMatchLines.js';
import { SlaClockScope1795812000000 } from './1795812000000-SlaClockScope.js';
import { ExceptionReportedSeverity1795813000000 } from './1795813000000-ExceptionReportedSeverity.js';

// Every migration, in order. Generate with `npm run migration:generate -- migrations/<Name>`, review, then list it here.
export const MIGRATIONS = [
  Initial1795778567251,
  BusinessDocumentsAndConnectorState1795780138605,
  InboundMessageMeta1795781232438,
  EventOutbox1795783087805,
  VersionedArtifacts1795791000000,
  DocumentMatching1795792000000,
  RoutingNoiseTriage1795793000000,
  SlaClocksTasksActions1795794000000,
  DeliveryAndAuditChain1795795000000,
  PollingConnectors1795796000000,
  Reporting1795797000000,
  AuditSeals1795798000000,
  ReportingCoarseRollups1795799000000,
  DeliveryFreshQueue1795801000000,
  DocumentMatchLines1795811051101,
  SlaClockScope1795812000000,
  ExceptionReportedSeverity1795813000000,
];
