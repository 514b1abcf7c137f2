import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { completeDraft, type SourceContext } from '../canonical/exception-draft.js';
import { MappingFailure, runMapping, type LoadedMapping } from './mapping-registry.service.js';

export const FixtureSetSchema = z.strictObject({
  ok: z.array(z.strictObject({ name: z.string().min(1).max(200), input: z.unknown(), expected: z.array(z.unknown()) })).default([]),
  notOk: z.array(z.strictObject({ name: z.string().min(1).max(200), input: z.unknown(), reason: z.string().min(1).max(2000) })).default([]),
});
/** Golden fixtures: ok inputs with their expected output; not-ok inputs with the reason they must be rejected. */
export type FixtureSet = z.infer<typeof FixtureSetSchema>;

export interface FixtureResult {
  name: string;
  kind: 'ok' | 'not-ok';
  pass: boolean;
  /** Why it failed: the differing paths (ok) or the problems actually found (not-ok). */
  differences: string[];
}

/** Reads fixtures/ok/*.json + *.expected.json and fixtures/not-ok/*.json + *.reason.txt of a mapping folder. */
export async function readFixtures(dir: string): Promise<FixtureSet> {
  const list = async (kind: string) => {
    try {
      return (await readdir(path.join(dir, 'fixtures', kind))).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json')).sort();
    } catch {
      return [];
    }
  };
  const json = async (f: string) => JSON.parse(await readFile(f, 'utf8'));
  const ok = await Promise.all(
    (await list('ok')).map(async (f) => ({
      name: f,
      input: await json(path.join(dir, 'fixtures/ok', f)),
      expected: await json(path.join(dir, 'fixtures/ok', f.replace(/\.json$/, '.expected.json'))),
    })),
  );
  const notOk = await Promise.all(
    (await list('not-ok')).map(async (f) => ({
      name: f,
      input: await json(path.join(dir, 'fixtures/not-ok', f)),
      reason: (await readFile(path.join(dir, 'fixtures/not-ok', f.replace(/\.json$/, '.reason.txt')), 'utf8')).trim(),
    })),
  );
  return { ok, notOk };
}

const FIXTURE_CONTEXT = { system: 'fixture', connectorId: 'fixture', messageId: '01a21cd0-0000-7000-8000-000000000001', senderEventId: undefined };

/** What a mapping makes of one document: its raw output, canonical exceptions and every problem found. */
export async function evaluateDocument(m: LoadedMapping, input: unknown, documentType: string, over: Partial<SourceContext> = {}) {
  const ctx: SourceContext = {
    ...FIXTURE_CONTEXT,
    connectorType: m.manifest.source.connectorType,
    documentType,
    testMode: false,
    receivedAt: new Date('2026-11-27T00:00:00Z'),
    mapping: { id: m.manifest.id, version: m.manifest.version },
    ...over,
  };
  const problems: string[] = [];
  let output: unknown[] | null = null;
  const exceptions: unknown[] = [];
  try {
    output = await runMapping(m, input, { type: documentType, connectorId: ctx.connectorId, system: ctx.system, testMode: ctx.testMode, related: [] });
    for (const draft of output) {
      const r = completeDraft(draft, ctx);
      if (r.ok) exceptions.push(r.exception);
      else problems.push(...r.problems.map((p) => `${p.path}: ${p.message}`));
    }
  } catch (e) {
    if (!(e instanceof MappingFailure)) throw e;
    problems.push(e.message);
  }
  return { output, exceptions, problems };
}

const typeOf = (input: unknown) => String((input as { type?: unknown } | null)?.type ?? '');

/** Runs every fixture; an ok fixture passes when the output equals the expected one and validates. */
export async function checkFixtures(m: LoadedMapping, set: FixtureSet): Promise<FixtureResult[]> {
  const out: FixtureResult[] = [];
  for (const f of set.ok) {
    const r = await evaluateDocument(m, f.input, typeOf(f.input));
    const differences = r.output === null ? r.problems : [...jsonDifferences(f.expected, r.output), ...r.problems];
    out.push({ name: f.name, kind: 'ok', pass: differences.length === 0, differences });
  }
  for (const f of set.notOk) {
    const r = await evaluateDocument(m, f.input, typeOf(f.input));
    const pass = r.problems.includes(f.reason);
    out.push({ name: f.name, kind: 'not-ok', pass, differences: pass ? [] : [`expected the problem "${f.reason}"; found ${r.problems.length ? r.problems.map((p) => `"${p}"`).join(', ') : 'none'}`] });
  }
  return out;
}

/** Paths where two JSON values differ, e.g. `[0].references.order: expected "SO-1", got "SO-2"`. */
export function jsonDifferences(expected: unknown, actual: unknown, at = '', out: string[] = [], max = 50): string[] {
  if (out.length >= max || isDeepStrictEqual(expected, actual)) return out;
  const show = (v: unknown) => (v === undefined ? '(missing)' : JSON.stringify(v)?.slice(0, 120));
  const bothArrays = Array.isArray(expected) && Array.isArray(actual);
  const bothObjects = !bothArrays && isObject(expected) && isObject(actual);
  if (bothArrays) {
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) jsonDifferences(expected[i], actual[i], `${at}[${i}]`, out, max);
  } else if (bothObjects) {
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) jsonDifferences(expected[k], actual[k], at ? `${at}.${k}` : k, out, max);
  } else {
    out.push(`${at || '(root)'}: expected ${show(expected)}, got ${show(actual)}`);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
