import { ApiKey } from '../auth/api-key.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { AuditSeal } from '../audit/audit-seal.entity.js';
import { CaseRecord } from '../cases/case.entity.js';
import { ExceptionRecord } from '../cases/exception.entity.js';
import { ConnectorInstance } from '../connectors/connector-instance.entity.js';
import { ConnectorClaim, ConnectorCounter } from '../connectors/connector-state.entity.js';
import { ArtifactActivation, ArtifactVersion } from '../mapping/artifact.entity.js';
import { ConnectorPollItem, ConnectorPollState } from '../connectors/poll-state.entity.js';
import { OutboxEvent } from '../delivery/outbox-event.entity.js';
import { CaseActionRecord } from '../actions/case-action.entity.js';
import { CaseTaskRecord } from '../sla/case-task.entity.js';
import { SlaClockRecord } from '../sla/sla-clock.entity.js';
import { Delivery, DeliveryAttempt } from '../delivery/delivery.entity.js';
import { Subscription } from '../delivery/subscription.entity.js';
import { BusinessDocumentRecord } from '../documents/business-document.entity.js';
import { OutboundDocumentRecord } from '../ingestion/outbound-document.entity.js';
import { InboundMessage } from '../ingestion/inbound-message.entity.js';
import { TriageItem } from '../triage/triage-item.entity.js';
import { DocumentMatchLinesRecord, DocumentMatchRecord, ExpectedDocumentRecord } from '../matching/matching.entities.js';

/** Every entity, for the one DataSource the app, the CLI and the tests share. */
export const ENTITIES = [
  InboundMessage,
  ExceptionRecord,
  CaseRecord,
  AuditEvent,
  AuditSeal,
  ConnectorInstance,
  ApiKey,
  BusinessDocumentRecord,
  OutboundDocumentRecord,
  ConnectorCounter,
  ConnectorClaim,
  OutboxEvent,
  ArtifactVersion,
  ArtifactActivation,
  TriageItem,
  SlaClockRecord,
  CaseTaskRecord,
  CaseActionRecord,
  DocumentMatchRecord,
  DocumentMatchLinesRecord,
  ExpectedDocumentRecord,
  Subscription,
  Delivery,
  DeliveryAttempt,
  ConnectorPollState,
  ConnectorPollItem,
];
