import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import jsonata from 'jsonata';
import { z } from 'zod';
import { ConfigError } from '../config/hub-config.js';

export const MappingManifest = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,127}$/),
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a semantic version such as 1.2.0'),
  description: z.string().max(2000).default(''),
  source: z.strictObject({ connectorType: z.string().min(1), documentTypes: z.array(z.string().min(1)).min(1) }),
  target: z.enum(['exception']),
  /** Milliseconds one evaluation may take before it is stopped as runaway. */
  timeoutMs: z.number().int().min(1).max(10_000).default(250),
});
export type MappingManifest = z.infer<typeof MappingManifest>;

export interface LoadedMapping {
  manifest: MappingManifest;
  dir: string;
  expression: jsonata.Expression;
  lookups: Record<string, Record<string, unknown>>;
}

export class MappingFailure extends Error {
  constructor(
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const MAX_DEPTH = 200;
export const TIMEBOX = '__hub_timebox';

export interface Timebox {
  deadline: number;
  timeoutMs: number;
  steps: number;
  depth: number;
}

type Env = { lookup(name: string): unknown };

/**
 * Stops runaway expressions. jsonata calls these hooks (registered under its Symbol names) on entry
 * to and exit from every evaluation step; each evaluation carries its own timebox binding, so one
 * compiled expression can serve concurrent messages. The clock is read every 128 steps.
 */
export function guard(expression: jsonata.Expression): void {
  const assign = expression.assign as unknown as (name: symbol, value: unknown) => void;
  assign.call(expression, Symbol.for('jsonata.__evaluate_entry'), (_expr: unknown, _input: unknown, env: Env) => {
    const tb = env.lookup(TIMEBOX) as Timebox | undefined;
    if (!tb) return;
    if (++tb.depth > MAX_DEPTH) throw new MappingFailure(`evaluation exceeded depth ${MAX_DEPTH} and was stopped`);
    if ((++tb.steps & 127) === 0 && Date.now() > tb.deadline) {
      throw new MappingFailure(`evaluation exceeded ${tb.timeoutMs} ms and was stopped`, { timeoutMs: tb.timeoutMs });
    }
  });
  assign.call(expression, Symbol.for('jsonata.__evaluate_exit'), (_expr: unknown, _input: unknown, env: Env) => {
    const tb = env.lookup(TIMEBOX) as Timebox | undefined;
    if (tb) tb.depth--;
  });
}

/** What a published mapping version consists of; what POST /v1/mappings/{id}/versions accepts. */
export interface MappingContent {
  manifest: MappingManifest;
  transform: string;
  lookups: Record<string, Record<string, unknown>>;
}

/** Reads mappings/<id>/<version>/ (manifest.json, transform.jsonata, lookups/*.json); ConfigError naming the file on any problem. */
export async function readMappingFolder(dir: string): Promise<MappingContent> {
  const where = (f: string) => path.join(dir, f);
  let manifest: MappingManifest;
  try {
    manifest = MappingManifest.parse(JSON.parse(await readFile(where('manifest.json'), 'utf8')));
  } catch (e) {
    const msg = e instanceof z.ZodError ? `${e.issues[0].path.join('.')}: ${e.issues[0].message}` : (e as Error).message;
    throw new ConfigError(`${where('manifest.json')}: ${msg}`);
  }
  let transform: string;
  try {
    transform = await readFile(where('transform.jsonata'), 'utf8');
  } catch (e) {
    throw new ConfigError(`${where('transform.jsonata')}: ${(e as Error).message}`);
  }
  const lookups: Record<string, Record<string, unknown>> = {};
  try {
    for (const f of (await readdir(where('lookups'))).filter((f) => f.endsWith('.json')).sort()) {
      lookups[f.replace(/\.json$/, '')] = JSON.parse(await readFile(path.join(dir, 'lookups', f), 'utf8'));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`${where('lookups')}: ${(e as Error).message}`);
  }
  return { manifest, transform, lookups };
}

/** Compiles a mapping's transform; a JSONata syntax error is a MappingFailure with its position. */
export function compileMapping(content: MappingContent, dir = ''): LoadedMapping {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(content.transform);
    guard(expression);
  } catch (e) {
    const err = e as { message: string; position?: number; code?: string };
    throw new MappingFailure(`transform.jsonata: ${err.message} at position ${err.position ?? '?'}`, { code: err.code, position: err.position });
  }
  return { manifest: content.manifest, dir, expression, lookups: content.lookups };
}

/** Loads one mapping folder, compiled. */
export async function loadMapping(dir: string): Promise<LoadedMapping> {
  const content = await readMappingFolder(dir);
  try {
    return compileMapping(content, dir);
  } catch (e) {
    throw new ConfigError(`${dir}/${(e as Error).message}`);
  }
}

/**
 * Runs a mapping on one document. Returns the drafts (an array; empty means "no exception").
 * An expression error, a result of undefined (no rule for this document) or a runaway
 * evaluation (time or depth) is a MappingFailure.
 *
 * With `loadRelated`, `$document.related` is read only if the mapping looks at it: the first run sees
 * a getter that notes the access (and answers []); if it was touched, that run's result or error is
 * dropped and the mapping runs again with the related documents loaded. Most documents are mapped
 * without reading the stored documents they share a PO with (up to 20 whole payloads).
 */
export async function runMapping(
  m: LoadedMapping,
  input: unknown,
  context: Record<string, unknown>,
  loadRelated?: () => Promise<unknown[]>,
): Promise<unknown[]> {
  if (!loadRelated) return evaluateMapping(m, input, context);
  let touched = false;
  const lazy = Object.defineProperty({ ...context }, 'related', {
    enumerable: true,
    get: () => {
      touched = true;
      return [];
    },
  });
  try {
    const out = await evaluateMapping(m, input, lazy);
    if (!touched) return out;
  } catch (e) {
    if (!touched) throw e;
  }
  return evaluateMapping(m, input, { ...context, related: await loadRelated() });
}

async function evaluateMapping(m: LoadedMapping, input: unknown, context: Record<string, unknown>): Promise<unknown[]> {
  const timebox: Timebox = { deadline: Date.now() + m.manifest.timeoutMs, timeoutMs: m.manifest.timeoutMs, steps: 0, depth: 0 };
  const bindings = { document: context, lookups: m.lookups, [TIMEBOX]: timebox };
  let out: unknown;
  try {
    out = await m.expression.evaluate(input, bindings);
  } catch (e) {
    if (e instanceof MappingFailure) throw e;
    const err = e as { message?: string; code?: string; position?: number; token?: string };
    throw new MappingFailure(`JSONata error ${err.code ?? ''}: ${err.message ?? String(e)}`.trim(), {
      code: err.code,
      position: err.position,
      token: err.token,
    });
  }
  if (out === undefined) {
    throw new MappingFailure(`no rule in ${m.manifest.id}@${m.manifest.version} for document type "${String(context.type)}"`);
  }
  if (out === null) return [];
  // JSONata sequences are arrays with extra flags; copy to plain values for validation and storage.
  return (Array.isArray(out) ? [...out] : [out]).map(plain);
}

/** A plain JSON value: drops JSONata's sequence flags and undefined members, like a JSON round trip, without the text. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === 'function' ? null : plain(x)));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = plain(x);
    return o;
  }
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

export function compareSemver(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pb = b.split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
  // A pre-release sorts before its release.
  if (pa.length !== pb.length) return pa.length === 3 ? 1 : pb.length === 3 ? -1 : 0;
  return String(a).localeCompare(String(b));
}
