/** Reading a plan file (JSON or YAML). Node only: never imported by workflows. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PgTransitError, ErrorType } from '../errors';
import { parsePlan, formatPlanIssues, planSchema, type Plan } from './plan';

/** Reads and parses the file; throws InvalidPlan naming every bad field. */
export function loadPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `cannot read plan file ${path}: ${(e as Error).message}; check the path given with -f`,
    );
  }
  const format = path.endsWith('.json') ? 'JSON' : 'YAML';
  let raw: unknown;
  try {
    raw = format === 'JSON' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `${path} is not valid ${format}: ${syntaxError(format, text, e as Error)}; correct the syntax there, ` +
        `then check the file with pgtransit plan check -f ${path}`,
    );
  }
  const result = parsePlan(raw);
  if (!result.ok) {
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `${path}: the plan is invalid\n${formatPlanIssues(result.issues)}`,
      { issues: result.issues },
    );
  }
  return result.plan;
}

/**
 * What the parser says is wrong, and where, without the text it quotes: the yaml package
 * prints the offending lines and V8 a snippet of the JSON, and a line of a plan may hold a
 * password.
 */
function syntaxError(format: 'JSON' | 'YAML', text: string, e: Error): string {
  if (format === 'YAML') return (e.message.split('\n', 1)[0] ?? '').replace(/:$/, '');
  return e.message
    .replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '')
    .replace(/ at position (\d+)(?: \(line \d+ column \d+\))?/, (_, at: string) => {
      const before = text.slice(0, Number(at)).split('\n');
      return ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    });
}

/** JSON Schema of the plan as written, for editors (yaml-language-server, VS Code). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'pgtransit migration plan',
    ...z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
