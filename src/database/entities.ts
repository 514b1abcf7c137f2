import { ApiKey } from '../auth/api-key.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { CaseRecord } from '../cases/case.entity.js';
import { ExceptionRecord } from '../cases/exception.entity.js';
import { ConnectorInstance } from '../connectors/connector-instance.entity.js';
import { ConnectorClaim, ConnectorCounter } from '../connectors/connector-state.entity.js';
import { ConnectorPollItem, ConnectorPollState } from '../connectors/poll-state.entity.js';
import { OutboxEvent } from '../delivery/outbox-event.entity.js';
import { BusinessDocumentRecord } from '../documents/business-document.entity.js';
import { OutboundDocumentRecord } from '../ingestion/outbound-document.entity.js';
import { InboundMessage } from '../ingestion/inbound-message.entity.js';

/** Every entity, for the one DataSource the app, the CLI and the tests share. */
export const ENTITIES = [
  InboundMessage,
  ExceptionRecord,
  CaseRecord,
  AuditEvent,
  ConnectorInstance,
  ApiKey,
  BusinessDocumentRecord,
  OutboundDocumentRecord,
  ConnectorCounter,
  ConnectorClaim,
  OutboxEvent,
  ConnectorPollState,
  ConnectorPollItem,
];
