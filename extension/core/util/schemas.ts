// The JSON Schemas under schemas/ that the core validates with (the testbed file has its own loader). Compiled on
// first use: compiling costs tens of milliseconds that activation and `--help` should not pay.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import bundleSchema from '../../../schemas/bundle.schema.json';
import planSchema from '../../../schemas/plan.schema.json';
import runSchema from '../../../schemas/run.schema.json';
import taskSchema from '../../../schemas/task.schema.json';

export type SchemaName = 'bundle' | 'plan' | 'run' | 'task';

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

export function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    ajv ??= new Ajv({ allErrors: true, schemas: [bundleSchema, planSchema, runSchema, taskSchema] });
    v = ajv.getSchema(`https://hypershield.dev/schemas/${name}.schema.json`)!;
    compiled.set(name, v);
  }
  return v;
}

/** "/repetitions must be integer (got 2.5)", one line per problem, the most specific ones (oneOf noise left out). */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, value: unknown, rename: (path: string) => string = (p) => p): string[] {
  const all = errors ?? [];
  // A failed oneOf also reports every branch; keep the branch errors, drop the summary when there are others.
  const specific = all.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if') ;
  const shown = specific.length ? specific : all;
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of shown) {
    const got = at(value, e.instancePath);
    const extra = e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')}`
      : e.keyword === 'additionalProperties' ? ` ("${(e.params as { additionalProperty: string }).additionalProperty}")` : '';
    const line = `${rename(e.instancePath) || '(the whole value)'} ${e.message ?? 'is invalid'}${extra}${got === undefined || typeof got === 'object' ? '' : ` (got ${JSON.stringify(got)})`}`;
    if (!seen.has(line)) lines.push(line);
    seen.add(line);
  }
  return lines;
}

function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const seg of pointer.split('/').slice(1)) v = (v as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}
