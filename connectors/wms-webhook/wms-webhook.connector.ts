import { z } from 'zod';
import {
  InboundRefusal,
  PayloadError,
  type Acceptance,
  type Connector,
  type InboundRequest,
  type ParsedDocument,
  type ResolvedInstance,
} from '../../src/connectors/connector.js';
import { jsonProblem } from '../../src/connectors/json-problem.js';
import { signingKey, verify } from './standard-webhooks.js';

const Config = z.strictObject({
  /** Allowed clock skew for webhook-timestamp, seconds. */
  toleranceSeconds: z.number().int().min(1).max(86_400).default(300),
});
const Secrets = z.strictObject({
  signingSecret: z.string().min(16, 'must be at least 16 characters (Standard Webhooks: whsec_<base64>)'),
  /** The secret being rotated out; accepted until removed. */
  previousSigningSecret: z.string().min(16).optional(),
});
type WmsConfig = z.infer<typeof Config>;
type WmsSecrets = z.infer<typeof Secrets>;

/**
 * Warehouse management system webhooks, signed the Standard Webhooks way.
 * Body: a JSON event with a `type` (pick.shortfall, inventory.variance, goods.damaged, ...).
 */
export class WmsWebhookConnector implements Connector<WmsConfig, WmsSecrets> {
  readonly type = 'wms-webhook';
  readonly description = 'Warehouse system events over signed webhooks (Standard Webhooks HMAC-SHA256)';
  readonly configSchema = Config;
  readonly secretsSchema = Secrets;

  accept(req: InboundRequest, instance: ResolvedInstance<WmsConfig, WmsSecrets>): Acceptance {
    const h = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const keys = [instance.secrets.signingSecret, instance.secrets.previousSigningSecret]
      .filter((s): s is string => !!s)
      .map(signingKey);
    const id = h('webhook-id');
    if (id && id.length > 256) throw new InboundRefusal(400, 'webhook-id is longer than 256 characters');
    const result = verify(
      keys,
      { id, timestamp: h('webhook-timestamp'), signature: h('webhook-signature') },
      req.body,
      req.now.getTime(),
      instance.config.toleranceSeconds ?? 300,
    );
    if (!result.ok) throw new InboundRefusal(401, `webhook signature rejected: ${result.detail}`);
    return { senderEventId: id, malformed: jsonProblem(req.body) ?? eventProblem(req.body) };
  }

  parse(raw: Buffer): ParsedDocument[] {
    const problem = jsonProblem(raw);
    if (problem) throw new PayloadError(problem);
    const event = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    const typeProblem = eventProblem(raw, event);
    if (typeProblem) throw new PayloadError(typeProblem);
    return [{ documentType: String(event.type), payload: event, testMode: event.environment === 'test' }];
  }
}

function eventProblem(raw: Buffer, parsed?: unknown): { reason: string } | undefined {
  const event = parsed ?? JSON.parse(raw.toString('utf8'));
  if (!event || typeof event !== 'object' || Array.isArray(event)) return { reason: 'the event must be a JSON object' };
  const type = (event as Record<string, unknown>).type;
  if (typeof type !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(type)) {
    return { reason: 'field "type" must be an event type such as "pick.shortfall"' };
  }
  return undefined;
}
