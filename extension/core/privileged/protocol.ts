// What an ordinary user may ask the root helper (installed by `sudo hypershield setup`) to do: a fixed set of
// operations on the caller's own testbed, each argument checked against a schema. The workbench (helper-client.ts)
// and the helper (helper-main.ts) share this file, so both sides agree on every operation and limit.
//
// A request is argv `helper OPERATION key=value …`: sudo logs the whole command line, so the system log shows every
// privileged operation and what it was given.
import Ajv from 'ajv';
import { DEFAULT_MODEL_CONFIG, validateConfig, type ModelConfig } from '../model/deploy/model-host';

/** Where setup installs the helper; sudoers allows the group this one program, with any arguments it validates. */
export const HELPER_PATH = '/usr/local/libexec/hypershield/helper';
export const SUDOERS_FILE = '/etc/sudoers.d/hypershield';
export const DEFAULT_GROUP = 'hypershield';

/** The testbed name pattern of schemas/testbed.schema.json: namespace names derive from it. */
const TESTBED = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,11}$' } as const;
/** An absolute path of plain name characters: no spaces, quotes, $, ;, |, & or other shell metacharacters. */
const PATH = { type: 'string', pattern: '^/[A-Za-z0-9._/-]{1,4000}$' } as const;
const CONFIG = {
  pattern: { type: 'string', pattern: '^(?:[0-9a-fA-F]{2}){0,64}$' },
  action: { enum: ['drop', 'accept'] },
  flowTimeout: { type: 'string', pattern: '^[1-9][0-9]{0,4}$' },
} as const;
const HOLDER = { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } as const;

const SCHEMAS = {
  /** Attach the built eBPF model to the model host's interfaces and write its config; prints the program and map ids. */
  'ebpf-attach': { properties: { testbed: TESTBED, holder: HOLDER, object: PATH, ...CONFIG }, required: ['testbed', 'holder', 'object', 'pattern', 'action', 'flowTimeout'] },
  /** Print the counters of the eBPF model attached on the model host. */
  'ebpf-counters': { properties: { testbed: TESTBED, holder: HOLDER }, required: ['testbed', 'holder'] },
  /** Load the kernel module built by the workbench, with the example policy's parameters. */
  'module-load': { properties: { testbed: TESTBED, holder: HOLDER, object: PATH, ...CONFIG }, required: ['testbed', 'holder', 'object', 'pattern', 'action', 'flowTimeout'] },
  /** Unload the kernel module the workbench loaded. */
  'module-unload': { properties: { testbed: TESTBED, holder: HOLDER }, required: ['testbed', 'holder'] },
} as const;

export type HelperOperation = keyof typeof SCHEMAS;
export const HELPER_OPERATIONS = Object.keys(SCHEMAS) as HelperOperation[];

export interface HelperRequest {
  op: HelperOperation;
  testbed: string;
  /** The pid of the process holding the testbed's user namespace (see netns-runner.ts). */
  holder: number;
  /** ebpf-attach, module-load: the built model, inside the testbed's run folder. */
  object?: string;
  /** ebpf-attach, module-load. */
  config?: ModelConfig;
}

/** A request the helper refuses: nothing was changed. */
export class HelperRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelperRefusal';
  }
}

const ajv = new Ajv({ allErrors: true });
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([op, s]) => [op, ajv.compile({ type: 'object', additionalProperties: false, ...s })]));

/** argv for a request (without the helper's own path). */
export function requestArgv(req: HelperRequest): string[] {
  const fields: Record<string, string> = { testbed: req.testbed, holder: String(req.holder) };
  if (req.object !== undefined) fields.object = req.object;
  if (req.config) Object.assign(fields, { pattern: req.config.pattern, action: req.config.action, flowTimeout: String(req.config.flowTimeoutS) });
  return [req.op, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)];
}

/** Parses and checks argv; throws HelperRefusal naming every problem. */
export function parseRequest(argv: readonly string[]): HelperRequest {
  const [op, ...rest] = argv;
  if (!op || !(HELPER_OPERATIONS as string[]).includes(op)) {
    throw new HelperRefusal(`unknown operation "${op ?? ''}": the helper does ${HELPER_OPERATIONS.join(', ')}, and nothing else`);
  }
  const fields: Record<string, string> = {};
  for (const arg of rest) {
    const eq = arg.indexOf('=');
    if (eq < 1) throw new HelperRefusal(`argument "${arg}" is not key=value`);
    const key = arg.slice(0, eq);
    if (key in fields) throw new HelperRefusal(`argument ${key} is given twice`);
    fields[key] = arg.slice(eq + 1);
  }
  const validate = validators[op];
  if (!validate(fields)) {
    const problems = (validate.errors ?? []).map((e) => e.keyword === 'additionalProperties'
      ? `unknown argument ${(e.params as { additionalProperty: string }).additionalProperty}`
      : e.keyword === 'required' ? `missing argument ${(e.params as { missingProperty: string }).missingProperty}`
        : `${e.instancePath.slice(1)} ${e.message}${e.keyword === 'pattern' ? ` (got "${fields[e.instancePath.slice(1)]}")` : ''}`);
    throw new HelperRefusal(`${op}: ${problems.join('; ')}`);
  }
  const req: HelperRequest = { op: op as HelperOperation, testbed: fields.testbed, holder: Number(fields.holder) };
  if (fields.object !== undefined) req.object = fields.object;
  if (fields.action !== undefined) {
    req.config = { ...DEFAULT_MODEL_CONFIG, pattern: fields.pattern, action: fields.action as ModelConfig['action'], flowTimeoutS: Number(fields.flowTimeout) };
    try { validateConfig(req.config); } catch (err) { throw new HelperRefusal((err as Error).message); }
  }
  return req;
}
