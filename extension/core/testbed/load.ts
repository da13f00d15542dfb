import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import schema from '../../../schemas/testbed.schema.json';
import { StateStore, stateDir } from './state';
import { DEFAULT_SUBNETS, TESTBED_FILE, defaultTestbed, type Testbed } from './testbed';

export interface TestbedProblem {
  /** JSON path such as "/subnets/client" ("" for the whole document). */
  jsonPath: string;
  line: number;
  column: number;
  message: string;
  /** A check the schema cannot express (editors that validate against the schema do not report it). */
  beyondSchema?: true;
}

export class TestbedFileError extends Error {
  constructor(readonly file: string, readonly problems: TestbedProblem[]) {
    // The path once, then each problem at its line; a testbed that is up stays reachable (see recordedTestbed).
    super(`${file} is not a valid testbed description:\n` +
      problems.map((p) => `  line ${p.line}, column ${p.column}: ${p.jsonPath || '(document)'}: ${p.message}`).join('\n') +
      '\nFix these lines and save the file; a testbed that is up can still be brought down.');
    this.name = 'TestbedFileError';
  }
}

// verbose: errors carry their schema, so an unknown property's message can list the allowed ones.
// Compiled on first use: compiling costs tens of milliseconds that activation and `--help` should not pay.
let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction => (compiled ??= new Ajv({ allErrors: true, verbose: true }).compile(schema));

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Parses and validates a testbed description; throws TestbedFileError naming each bad JSON path and its line. */
export function parseTestbed(text: string, file: string): Testbed {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length || !tree) {
    throw new TestbedFileError(file, errors.map((e) => ({ jsonPath: '', ...lineCol(text, e.offset), message: `JSON syntax: ${printParseErrorCode(e.error)}` })));
  }
  const value: unknown = getNodeValue(tree);
  const validate = validator();
  if (!validate(value)) {
    const problems = (validate.errors ?? []).map((e) => {
      // Array items are numbers in a JSON path: a string index finds no node, and the error would point at line 1.
      const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      if (e.keyword === 'additionalProperties') {
        // Point at the unknown property itself, not at the object that holds it.
        const prop = (e.params as { additionalProperty: string }).additionalProperty;
        const node = findNodeAtLocation(tree, [...segments, prop])?.parent ?? findNodeAtLocation(tree, segments) ?? tree;
        const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}).filter((k) => k !== '$schema');
        return { jsonPath: `${e.instancePath}/${prop}`, ...lineCol(text, node.offset), message: `unknown property; allowed here: ${allowed.join(', ')}` };
      }
      const node = findNodeAtLocation(tree, segments) ?? tree;
      const extra = e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : '';
      return { jsonPath: e.instancePath, ...lineCol(text, node.offset), message: `${e.message ?? 'invalid'}${extra}` };
    });
    throw new TestbedFileError(file, problems);
  }
  const raw = value as Partial<Testbed>;
  const base = defaultTestbed();
  return {
    name: raw.name ?? base.name,
    backend: raw.backend ?? base.backend,
    mode: raw.mode ?? base.mode,
    subnets: { ...DEFAULT_SUBNETS, ...raw.subnets },
    hosts: raw.hosts ?? {},
    model: raw.model ?? {},
    ...(raw.docker ? { docker: raw.docker } : {}),
    source: file,
  };
}

/** The workspace's testbed file when there is one, else the built-in namespace testbed. */
export function loadTestbed(workspace: string): Testbed {
  const file = path.join(workspace, TESTBED_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultTestbed();
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const tb = parseTestbed(text, file);
  const overlap = new Set(Object.values(tb.subnets));
  if (overlap.size !== 3) throw new TestbedFileError(file, [{ jsonPath: '/subnets', line: 1, column: 1, message: 'the client, server and direct subnets must all differ', beyondSchema: true }]);
  return tb;
}

/**
 * The testbed its state file records, for when the description cannot be read: a testbed that is up must stay
 * visible and removable whatever the file says now. The name comes from the file when it still has one (a broken
 * file usually does), else from the only state file in the workspace. Subnets and host specs are not recorded,
 * so the defaults stand in; `down` removes what the state records and does not need them.
 */
export function recordedTestbed(workspace: string): Testbed | undefined {
  const file = path.join(workspace, TESTBED_FILE);
  let name: unknown;
  try {
    const tree = parseTree(fs.readFileSync(file, 'utf8'));
    name = tree && findNodeAtLocation(tree, ['name'])?.value;
  } catch {
    name = undefined;
  }
  const dir = stateDir(workspace);
  const recorded = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)) : [];
  const pick = typeof name === 'string' && recorded.includes(name) ? name : recorded.length === 1 ? recorded[0] : undefined;
  if (!pick) return undefined;
  const store = new StateStore(workspace, pick);
  const state = store.read();
  if (!state) return undefined;
  return { ...defaultTestbed(), name: state.name, backend: state.backend, mode: state.mode, source: `${store.file} (the state recorded when it came up)` };
}
