// Trigger functions that keep the reporting rollups current in the writing transaction.
// Statement-level with transition tables: one pipeline batch (one unnest INSERT) costs one
// aggregate upsert per rollup, not one per row. Rows of test traffic are never counted.
// Upserts are ORDER BY the key so concurrent workers lock rollup rows in the same order.
// These are the functions as migration 1795797000000 created them (and as 1795799000000's down restores
// them): keep the SQL they produce unchanged. The current versions of three of them, which also keep the
// coarser rollups, are in reporting-triggers-v2.ts.

/** Cycle-time histogram bin: log scale, factor 1.2 per bin (docs/reporting.md: percentiles are within ~10 %). */
export const BIN = (minutes: string) => `floor(ln(1 + greatest(${minutes}, 0)) / ln(1.2))::smallint`;
export const HOUR = (ts: string) => `(date_trunc('hour', ${ts} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
export const DAY = (ts: string) => `((${ts}) AT TIME ZONE 'UTC')::date`;
export const MATCH = (rule: string, e: string) => `CASE ${rule}.match_on WHEN 'site' THEN ${e}.site WHEN 'connector' THEN ${e}.connector_id
  WHEN 'system' THEN ${e}.payload->'source'->>'system' WHEN 'supplier' THEN ${e}.supplier_ref WHEN 'customer' THEN ${e}.customer_ref
  ELSE COALESCE(${e}.supplier_ref, ${e}.customer_ref) END`;

/** Upsert of the core-dimension exception rollup from the CTE x (see report_exceptions_inserted). */
export const CORE_UPSERT = (table: string, key: string, keyExpr: string) => `INSERT INTO ${table} AS r (${key}, category, code, business_unit, site, team, connector_id, system, step,
                                   exceptions, repeats, critical, amount_at_risk)
    SELECT ${keyExpr}, category, code, bu, site, team, connector_id, system, step, count(*), count(*) FILTER (WHERE rep), count(*) FILTER (WHERE crit), sum(amount)
      FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT (${key}, category, code, business_unit, site, team, connector_id, system, step) DO UPDATE SET
      exceptions = r.exceptions + EXCLUDED.exceptions, repeats = r.repeats + EXCLUDED.repeats, critical = r.critical + EXCLUDED.critical,
      amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk`;

/** Case outcome rows (CTE x: day, metric, bin, dims, measures) into the day and month rollups. */
export const CASE_UPSERTS = `h AS (
    INSERT INTO report_case_days AS r (day, metric, bin, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk)
    SELECT * FROM x ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (day, metric, bin, category, code, business_unit, site, team) DO UPDATE SET
      cases = r.cases + EXCLUDED.cases, breached = r.breached + EXCLUDED.breached, sla_tracked = r.sla_tracked + EXCLUDED.sla_tracked,
      touches = r.touches + EXCLUDED.touches, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk)
  INSERT INTO report_case_months AS r (month, metric, bin, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk)
  SELECT date_trunc('month', day)::date, metric, bin, category, code, business_unit, site, team, sum(cases), sum(breached), sum(sla_tracked), sum(touches), sum(amount_at_risk)
    FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT (month, metric, bin, category, code, business_unit, site, team) DO UPDATE SET
    cases = r.cases + EXCLUDED.cases, breached = r.breached + EXCLUDED.breached, sla_tracked = r.sla_tracked + EXCLUDED.sla_tracked,
    touches = r.touches + EXCLUDED.touches, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk`;

/** Integration counts (CTE x: bucket, connector_id, kind, n) into the hour and day rollups. */
export const INTEGRATION_UPSERTS = `h AS (
    INSERT INTO report_integration_hours (bucket, connector_id, kind, n) SELECT * FROM x ORDER BY 1, 2, 3
    ON CONFLICT (bucket, connector_id, kind) DO UPDATE SET n = report_integration_hours.n + EXCLUDED.n)
  INSERT INTO report_integration_days (day, connector_id, kind, n)
  SELECT (bucket AT TIME ZONE 'UTC')::date, connector_id, kind, sum(n) FROM x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (day, connector_id, kind) DO UPDATE SET n = report_integration_days.n + EXCLUDED.n`;

export const PARTNER_CONFLICT = `ON CONFLICT (day, partner, metric) DO UPDATE SET n = report_partner_days.n + EXCLUDED.n`;

/** The CTE x of report_exceptions_inserted: one row per counted new exception with its rollup dimensions and repeat flag. */
export const EXCEPTION_ROWS = `  WITH x AS MATERIALIZED (
    SELECT ${HOUR('n.detected_at')} AS bucket, n.category, n.code, COALESCE(n.business_unit, '') AS bu, COALESCE(n.site, '') AS site,
           COALESCE(c.owner_team, '') AS team, n.connector_id, COALESCE(n.payload->'source'->>'system', '') AS system, n.document_type AS step,
           COALESCE(n.supplier_ref, '') AS supplier, COALESCE(n.customer_ref, '') AS customer,
           (n.case_id IS NOT NULL AND EXISTS (SELECT 1 FROM exceptions e WHERE e.case_id = n.case_id AND (e.detected_at, e.id) < (n.detected_at, n.id))) AS rep,
           n.severity = 'critical' AS crit, COALESCE(n.amount_at_risk, 0) AS amount
      FROM new_rows n LEFT JOIN cases c ON c.id = n.case_id
     WHERE NOT n.test_mode),
`;

/** Exceptions per day by supplier and customer, from x. */
export const PARTNER_EXCEPTION_UPSERT = `  INSERT INTO report_partner_exception_days AS r (day, supplier, customer, category, code, exceptions, repeats, critical, amount_at_risk)
  SELECT (bucket AT TIME ZONE 'UTC')::date, supplier, customer, category, code, count(*), count(*) FILTER (WHERE rep), count(*) FILTER (WHERE crit), sum(amount)
    FROM x WHERE supplier <> '' OR customer <> ''
   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (day, supplier, customer, category, code) DO UPDATE SET
    exceptions = r.exceptions + EXCLUDED.exceptions, repeats = r.repeats + EXCLUDED.repeats, critical = r.critical + EXCLUDED.critical,
    amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk;

`;

/**
 * The part of report_exceptions_inserted between the core upserts and the root-cause links: integration
 * trends, partner exception counts, upstream candidates (shared with the later version of the function).
 */
export const EXCEPTION_TRENDS_AND_UPSTREAMS = `  -- Integration error trends per connector.
  WITH x AS MATERIALIZED (
    SELECT ${HOUR('n.detected_at')} AS bucket, n.connector_id, k.kind, count(*)::int AS n
      FROM new_rows n CROSS JOIN LATERAL (VALUES ('integration_exceptions'),
        (CASE n.code WHEN 'INTEGRATION.MAPPING_FAILED' THEN 'mapping_failures' WHEN 'INTEGRATION.EDI_REJECTED' THEN 'rejected_acks' END)) k(kind)
     WHERE NOT n.test_mode AND n.category = 'INTEGRATION' AND k.kind IS NOT NULL
     GROUP BY 1, 2, 3),
  ${INTEGRATION_UPSERTS};

  -- Exceptions per partner (supplier, else customer) for scorecards.
  INSERT INTO report_partner_days (day, partner, metric, n)
  SELECT ${DAY('n.detected_at')}, COALESCE(n.supplier_ref, n.customer_ref), 'exceptions', count(*)
    FROM new_rows n WHERE NOT n.test_mode AND COALESCE(n.supplier_ref, n.customer_ref) IS NOT NULL
   GROUP BY 1, 2 ORDER BY 1, 2
  ${PARTNER_CONFLICT};

  -- Root-cause links: first remember upstream failures, then link downstream exceptions to the
  -- latest upstream one with the same match value inside the rule's window (root_cause_rules).
  INSERT INTO root_cause_upstreams (rule_id, match_value, detected_at, exception_id, code, connector_id)
  SELECT ru.id, m.v, n.detected_at, n.id, n.code, n.connector_id
    FROM new_rows n JOIN root_cause_rules ru ON ru.enabled AND n.code = ANY(ru.upstream_codes)
   CROSS JOIN LATERAL (SELECT ${MATCH('ru', 'n')} AS v) m
   WHERE NOT n.test_mode AND m.v IS NOT NULL
  ON CONFLICT DO NOTHING;

`;

/** Root-cause links of new_rows as the CTEs found (candidates) and linked (stored); shared with the later version. */
export const ROOT_CAUSE_LINKS = `  WITH found AS (
    SELECT DISTINCT ON (n.id) n.id AS downstream_id, u.exception_id AS upstream_id, ru.id AS rule_id, n.detected_at, u.code AS upstream_code,
           u.connector_id AS upstream_connector, u.match_value, n.code, COALESCE(n.business_unit, '') AS bu, COALESCE(n.site, '') AS site,
           COALESCE(n.amount_at_risk, 0) AS amount
      FROM new_rows n JOIN root_cause_rules ru ON ru.enabled AND n.code = ANY(ru.downstream_codes)
     CROSS JOIN LATERAL (SELECT ${MATCH('ru', 'n')} AS v) m
     CROSS JOIN LATERAL (SELECT * FROM root_cause_upstreams u
                          WHERE u.rule_id = ru.id AND u.match_value = m.v AND u.detected_at <= n.detected_at
                            AND u.detected_at >= n.detected_at - ru.window_minutes * interval '1 minute'
                          ORDER BY u.detected_at DESC LIMIT 1) u
     WHERE NOT n.test_mode AND m.v IS NOT NULL
     ORDER BY n.id, u.detected_at DESC, ru.id),
  linked AS (
    INSERT INTO root_cause_links (downstream_id, upstream_id, rule_id, downstream_detected_at)
    SELECT downstream_id, upstream_id, rule_id, detected_at FROM found ON CONFLICT DO NOTHING RETURNING downstream_id)
`;

export const REPORTING_FUNCTIONS = [
  `CREATE FUNCTION report_exceptions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Volume, repeats (an exception whose case already held an earlier one), amount at risk:
  -- per hour and per day by the core dimensions, per day by supplier and customer.
${EXCEPTION_ROWS}  h AS (
    ${CORE_UPSERT('report_exception_hours', 'bucket', 'bucket')}),
  d AS (
    ${CORE_UPSERT('report_exception_days', 'day', `(bucket AT TIME ZONE 'UTC')::date`)})
${PARTNER_EXCEPTION_UPSERT}${EXCEPTION_TRENDS_AND_UPSTREAMS}${ROOT_CAUSE_LINKS}  INSERT INTO report_root_cause_hours AS r (bucket, rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site, links, amount_at_risk)
  SELECT ${HOUR('f.detected_at')}, f.rule_id, f.upstream_code, f.upstream_connector, f.match_value, f.code, f.bu, f.site, count(*), sum(f.amount)
    FROM found f JOIN linked l USING (downstream_id)
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT (bucket, rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site) DO UPDATE SET
    links = r.links + EXCLUDED.links, amount_at_risk = r.amount_at_risk + EXCLUDED.amount_at_risk;
  RETURN NULL;
END $$`,

  `CREATE FUNCTION report_cases_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH x AS MATERIALIZED (
    SELECT ${DAY('n.opened_at')} AS day, 'opened'::varchar AS metric, -1::smallint AS bin, n.category, n.code, COALESCE(n.business_unit, '') AS business_unit,
           COALESCE(n.site, '') AS site, n.owner_team AS team, count(*)::int AS cases, 0 AS breached, 0 AS sla_tracked, 0 AS touches,
           COALESCE(sum(n.amount_at_risk), 0) AS amount_at_risk
      FROM new_rows n WHERE NOT n.test_mode GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
  ${CASE_UPSERTS};
  RETURN NULL;
END $$`,

  // Acknowledge and resolve are one-way transitions (CaseDesk): count each once, when it happens.
  `CREATE FUNCTION report_cases_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH x AS MATERIALIZED (
  SELECT d.day, d.metric, d.bin, n.category, n.code, COALESCE(n.business_unit, '') AS business_unit, COALESCE(n.site, '') AS site, n.owner_team AS team,
         count(*)::int AS cases, (count(*) FILTER (WHERE d.breached))::int AS breached, (count(*) FILTER (WHERE d.tracked))::int AS sla_tracked,
         COALESCE(sum(d.touches), 0)::int AS touches, COALESCE(sum(n.amount_at_risk) FILTER (WHERE d.metric = 'resolved'), 0) AS amount_at_risk
    FROM new_rows n JOIN old_rows o ON o.id = n.id
   CROSS JOIN LATERAL (
     SELECT ${DAY('n.acknowledged_at')} AS day, 'acknowledged'::varchar AS metric,
            ${BIN("extract(epoch FROM n.acknowledged_at - n.opened_at) / 60")} AS bin,
            COALESCE(n.acknowledged_at > n.ack_due_at, false) AS breached, n.ack_due_at IS NOT NULL AS tracked, 0 AS touches
      WHERE o.acknowledged_at IS NULL AND n.acknowledged_at IS NOT NULL
     UNION ALL
     SELECT ${DAY('n.resolved_at')}, 'resolved', ${BIN("extract(epoch FROM n.resolved_at - n.opened_at) / 60")},
            COALESCE(n.sla_breached, false) OR COALESCE(n.resolved_at > n.resolve_due_at, false),
            n.sla_breached IS NOT NULL OR n.resolve_due_at IS NOT NULL,
            t.touches
       FROM (SELECT count(*)::int AS touches FROM audit_events a
              WHERE a.entity_type = 'case' AND a.entity_id = n.id::text AND a.actor_type <> 'system') t
      WHERE o.resolved_at IS NULL AND n.resolved_at IS NOT NULL) d
   WHERE NOT n.test_mode
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
  ${CASE_UPSERTS};
  RETURN NULL;
END $$`,

  `CREATE FUNCTION report_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH x AS MATERIALIZED (
    SELECT ${HOUR('n.received_at')} AS bucket, n.connector_id, k.kind, count(*)::int AS n
      FROM new_rows n CROSS JOIN LATERAL (VALUES ('messages'),
        (CASE n.status WHEN 'failed' THEN 'failures' WHEN 'dead' THEN 'dead_letters' END)) k(kind)
     WHERE NOT n.test_mode AND k.kind IS NOT NULL
     GROUP BY 1, 2, 3),
  ${INTEGRATION_UPSERTS};
  RETURN NULL;
END $$`,

  // Status changes count when they happen (now()); retries are attempts after the first.
  `CREATE FUNCTION report_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH x AS MATERIALIZED (
    SELECT ${HOUR('now()')} AS bucket, n.connector_id, k.kind, sum(k.n)::int AS n
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (VALUES
        (CASE WHEN n.status = 'failed' AND o.status <> 'failed' THEN 'failures' WHEN n.status = 'dead' AND o.status <> 'dead' THEN 'dead_letters' END, 1),
        ('retries', greatest(n.attempts - greatest(o.attempts, 1), 0))) k(kind, n)
     WHERE NOT n.test_mode AND k.kind IS NOT NULL AND k.n > 0
     GROUP BY 1, 2, 3),
  ${INTEGRATION_UPSERTS};
  RETURN NULL;
END $$`,

  // Scorecards: documents per partner and type, and whether 855/856/810 came on time
  // (855 within 24 h of the PO; 856 before the delivery date it announces; 810 within 72 h of the PO's first 856).
  `CREATE FUNCTION report_documents_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_partner_days (day, partner, metric, n)
  SELECT ${DAY('n.received_at')}, n.partner, k.metric, count(*)
    FROM new_rows n
   CROSS JOIN LATERAL (SELECT
      CASE n.type
        WHEN 'po_acknowledgment' THEN (SELECT n.received_at <= p.received_at + interval '24 hours' FROM business_documents p
                                        WHERE p.po_number = n.po_number AND p.type = 'purchase_order' AND p.partner = n.partner ORDER BY p.received_at LIMIT 1)
        WHEN 'ship_notice' THEN n.received_at <= COALESCE(n.payload->'dates'->>'scheduledDelivery', n.payload->'dates'->>'estimatedDelivery',
                                                         n.payload->'dates'->>'requestedDelivery')::timestamptz
        WHEN 'invoice' THEN (SELECT n.received_at <= s.received_at + interval '72 hours' FROM business_documents s
                              WHERE s.po_number = n.po_number AND s.type = 'ship_notice' AND s.partner = n.partner ORDER BY s.received_at LIMIT 1)
      END AS on_time) t
   CROSS JOIN LATERAL (VALUES ('docs:' || n.type),
      (CASE WHEN t.on_time THEN 'on_time:' || n.type WHEN NOT t.on_time THEN 'late:' || n.type END),
      (CASE WHEN n.type IN ('functional_ack', 'technical_ack') AND n.payload->>'status' IN ('R', 'M') THEN 'rejected_acks' END)) k(metric)
   WHERE NOT n.test_mode AND n.partner IS NOT NULL AND k.metric IS NOT NULL
   GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ${PARTNER_CONFLICT};
  RETURN NULL;
END $$`,
];

export const REPORTING_TRIGGERS = [
  `CREATE TRIGGER report_exceptions_ins AFTER INSERT ON exceptions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_exceptions_inserted()`,
  `CREATE TRIGGER report_cases_ins AFTER INSERT ON cases REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_cases_inserted()`,
  `CREATE TRIGGER report_cases_upd AFTER UPDATE ON cases REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_cases_updated()`,
  `CREATE TRIGGER report_messages_ins AFTER INSERT ON inbound_messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_messages_inserted()`,
  `CREATE TRIGGER report_messages_upd AFTER UPDATE ON inbound_messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_messages_updated()`,
  `CREATE TRIGGER report_documents_ins AFTER INSERT ON business_documents REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_documents_inserted()`,
];

export const DROP_REPORTING_TRIGGERS = [
  `DROP TRIGGER report_documents_ins ON business_documents`,
  `DROP TRIGGER report_messages_upd ON inbound_messages`,
  `DROP TRIGGER report_messages_ins ON inbound_messages`,
  `DROP TRIGGER report_cases_upd ON cases`,
  `DROP TRIGGER report_cases_ins ON cases`,
  `DROP TRIGGER report_exceptions_ins ON exceptions`,
  ...['report_documents_inserted', 'report_messages_updated', 'report_messages_inserted', 'report_cases_updated', 'report_cases_inserted',
    'report_exceptions_inserted'].map((f) => `DROP FUNCTION ${f}()`),
];
