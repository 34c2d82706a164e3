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
    throw new PgTransitError(ErrorType.InvalidPlan, `cannot read plan file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
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

/** JSON Schema of the plan as written, for editors (yaml-language-server, VS Code). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'pgtransit migration plan',
    ...z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
