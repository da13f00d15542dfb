import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLAN_DEFAULTS, PlanError, parseCount, validatePlan } from '../../extension/core/bench/plan';
import { describeErrors, validator } from '../../extension/core/util/schemas';
import planSchema from '../../schemas/plan.schema.json';
import taskSchema from '../../schemas/task.schema.json';
import { CLI } from '../helpers/workspace';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: {
    configuration: { properties: Record<string, { default: unknown; minimum?: number; maximum?: number; items?: unknown }> };
    taskDefinitions: Array<{ properties: Record<string, Record<string, unknown>> }>;
  };
};
const planProps = planSchema.properties as Record<string, Record<string, unknown>>;
/** The constraints a settings or task property shares with the plan schema (descriptions and defaults aside). */
const constraints = (p: Record<string, unknown>) => ({ type: p.type, minimum: p.minimum, maximum: p.maximum, itemsEnum: (p.items as { enum?: unknown } | undefined)?.enum });

test('the settings defaults and limits are the core plan defaults and the plan schema limits', () => {
  const settings = pkg.contributes.configuration.properties;
  const fields = { benchmarks: 'benchmarks', modes: 'modes', repetitions: 'repetitions', warmup: 'warmup', durationS: 'durationSeconds' } as const;
  for (const [field, setting] of Object.entries(fields) as Array<[keyof typeof PLAN_DEFAULTS, string]>) {
    const s = settings[`hypershield.bench.${setting}`];
    assert.deepEqual(s.default, PLAN_DEFAULTS[field], `hypershield.bench.${setting} default`);
    assert.equal(s.minimum, planProps[field].minimum, `hypershield.bench.${setting} minimum`);
    assert.equal(s.maximum, planProps[field].maximum, `hypershield.bench.${setting} maximum`);
  }
  assert.deepEqual((settings['hypershield.bench.modes'].items as { enum: unknown }).enum, (planProps.modes.items as { enum: unknown }).enum);
  validatePlan({ ...PLAN_DEFAULTS });
});

test('package.json taskDefinitions declare the properties of schemas/task.schema.json with the plan schema constraints', () => {
  const declared = pkg.contributes.taskDefinitions[0].properties;
  const [build, bench] = taskSchema.allOf.map((b) => b.then.properties as unknown as Record<string, Record<string, unknown>>);
  assert.deepEqual(Object.keys(declared).sort(), [...new Set(['task', ...Object.keys(build), ...Object.keys(bench)])].sort());
  for (const [name, p] of Object.entries(bench)) {
    const ref = typeof p.$ref === 'string' ? planProps[p.$ref.split('/').pop()!] : p;
    assert.deepEqual(constraints(declared[name]), constraints(ref), `task property ${name}`);
  }
  assert.deepEqual(declared.placement.enum, build.placement.enum);
});

test('task definitions are checked against the schema: each problem named', () => {
  const validate = validator('task');
  const problems = (d: unknown) => (validate(d) ? [] : describeErrors(validate.errors, d));
  assert.deepEqual(problems({ type: 'hypershield', task: 'bench', benchmarks: ['iperf3'], repetitions: 5, pin: 'auto', label: 'tasks.json keeps its own fields' }), []);
  assert.deepEqual(problems({ type: 'hypershield', task: 'build', model: 'model', placement: 'ebpf' }), []);
  assert.deepEqual(problems({ type: 'hypershield', task: 'bench', repetitions: 2.5 }), ['/repetitions must be integer (got 2.5)']);
  assert.deepEqual(problems({ type: 'hypershield', task: 'build', model: 'm' }), ["(the whole value) must have required property 'placement'"]);
  assert.deepEqual(problems({ type: 'hypershield', task: 'bench', pin: { client: '0;1' } }), ['/pin/client must match pattern "^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$" (got "0;1")']);
  assert.deepEqual(problems({ type: 'hypershield', task: 'deploy' }), ['/task must be equal to one of the allowed values: "build", "bench" (got "deploy")']);
});

test('validatePlan names each bad field with its CLI option; parseCount refuses what is not a whole number in range', () => {
  assert.throws(() => validatePlan({ benchmarks: [], modes: ['direct', 'sideways'], repetitions: 2.5, warmup: -1, durationS: 4000, pin: { client: 'x' } }), (err: PlanError) => {
    assert.deepEqual(err.problems, [
      'benchmarks (--benchmarks) must NOT have fewer than 1 items',
      'modes (--modes)/1 must be equal to one of the allowed values: "direct", "model" (got "sideways")',
      'repetitions (--reps) must be integer (got 2.5)',
      'warmup (--warmup) must be >= 0 (got -1)',
      'durationS (--duration) must be <= 3600 (got 4000)',
      'pin (--pin)/client must match pattern "^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$" (got "x")',
    ]);
    return true;
  });
  assert.equal(parseCount('repetitions', '7'), 7);
  assert.equal(parseCount('warmup', '0'), 0);
  assert.throws(() => parseCount('repetitions', '2.5'), /^Error: --reps needs a whole number >= 1 \(got "2\.5"\)\.$/);
  assert.throws(() => parseCount('repetitions', '0'), /--reps needs a whole number >= 1 \(got "0"\)/);
  assert.throws(() => parseCount('durationS', '1e3'), /--duration needs a whole number from 1 to 3600 \(got "1e3"\)/);
  assert.throws(() => parseCount('warmup', ''), /--warmup needs a whole number >= 0/);
});

test('the CLI refuses --reps 2.5 before touching a testbed, and its defaults are the core plan defaults', () => {
  const r = spawnSync(CLI[0], [CLI[1], '-w', '/nonexistent', 'bench', '--reps', '2.5'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: option '--reps <n>' argument '2\.5' is invalid\. --reps needs a whole number >= 1 \(got "2\.5"\)\./);
  const help = spawnSync(CLI[0], [CLI[1], 'bench', '--help'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
  assert.match(help, new RegExp(`--reps <n> .*\\(default: ${PLAN_DEFAULTS.repetitions}\\)`));
  assert.match(help, new RegExp(`--warmup <n> .*\\(default: ${PLAN_DEFAULTS.warmup}\\)`));
  assert.match(help, new RegExp(`--duration <s> .*\\(default: ${PLAN_DEFAULTS.durationS}\\)`));
  assert.match(help, new RegExp(`--benchmarks <list> .*\\(default: "${PLAN_DEFAULTS.benchmarks.join(',')}"\\)`));
});
