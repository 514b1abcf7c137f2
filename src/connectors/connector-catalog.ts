import { SftpConnector } from '../../connectors/sftp/sftp.connector.js';
import { ErpRestConnector } from '../../connectors/erp-rest/erp-rest.connector.js';
import { WmsWebhookConnector } from '../../connectors/wms-webhook/wms-webhook.connector.js';
import { X12Connector } from '../../connectors/x12/x12.connector.js';
import type { Connector } from './connector.js';

/**
 * Registration of connector types: the only core file a new connector touches.
 * Each entry comes from connectors/<name>/.
 */
export const CONNECTOR_TYPES: Connector<any, any>[] = [new WmsWebhookConnector(), new X12Connector(), new SftpConnector(), new ErpRestConnector()];
