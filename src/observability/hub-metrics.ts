import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Stage = 'accept' | 'parse' | 'map' | 'route' | 'persist' | 'batch';

/** Prometheus metrics for one hub process, exposed at GET /metrics. */
@Injectable()
export class HubMetrics {
  readonly registry = new Registry();

  readonly messagesReceived = new Counter({
    name: 'hub_messages_received_total',
    help: 'Inbound messages accepted, by connector and outcome (accepted, duplicate)',
    labelNames: ['connector', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly messagesRejected = new Counter({
    name: 'hub_messages_rejected_total',
    help: 'Inbound requests refused at the edge, by connector and HTTP status',
    labelNames: ['connector', 'status'] as const,
    registers: [this.registry],
  });

  readonly exceptionsCreated = new Counter({
    name: 'hub_exceptions_created_total',
    help: 'Canonical exceptions stored, by code and severity',
    labelNames: ['code', 'severity'] as const,
    registers: [this.registry],
  });

  readonly casesOpened = new Counter({
    name: 'hub_cases_opened_total',
    help: 'Cases opened, by owner team',
    labelNames: ['team'] as const,
    registers: [this.registry],
  });

  readonly stageDuration = new Histogram({
    name: 'hub_stage_duration_seconds',
    help: 'Time spent per pipeline stage (per message for parse/map/route, per batch for persist/batch)',
    labelNames: ['stage'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly pipelineFailures = new Counter({
    name: 'hub_pipeline_failures_total',
    help: 'Pipeline job attempts that failed, by queue and kind (transient, dead)',
    labelNames: ['queue', 'kind'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'hub_dead_letters_total',
    help: 'Messages moved to the dead state after their last retry',
    labelNames: ['connector'] as const,
    registers: [this.registry],
  });

  readonly enrichmentLookups = new Counter({
    name: 'hub_enrichment_lookups_total',
    help: 'Enrichment lookups before routing, by lookup and outcome (hit, shared: joined the same lookup in flight, miss, error, timeout, skipped while the lookup keeps failing)',
    labelNames: ['lookup', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'hub_queue_depth',
    help: 'Jobs per queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hub_process_' });
  }
}
