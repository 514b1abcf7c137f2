import type { PayloadProblem } from './connector.js';

/** Parses JSON only to locate what is wrong with it: the reason with offset, line and column. */
export function jsonProblem(body: Buffer): PayloadProblem | undefined {
  const text = body.toString('utf8');
  if (text.trim() === '') return { reason: 'body is empty; a JSON document was expected' };
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    const m = message.match(/at position (\d+)/);
    const offset = m ? Number(m[1]) : text.length;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '');
    return { reason: `malformed JSON: ${reason} (line ${line}, column ${column})`, position: { offset, line, column } };
  }
}
