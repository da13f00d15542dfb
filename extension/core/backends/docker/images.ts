// Container images built from recipes (native-templates/docker/*.packages) with no registry: mmdebstrap makes a
// Debian root file system from this machine's apt sources and the engine imports it. An image is reused while its
// recipe is unchanged: the recipe's content hash is in a label.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { Progress } from '../backend';
import type { Role } from '../../hosts/host';
import { engineDeadline } from './engine';
import { LABELS } from './labels';

/** Which recipe each role's container runs (when the testbed file names no image). */
export const ROLE_RECIPE: Readonly<Record<Role, string>> = { client: 'endpoint', server: 'endpoint', model: 'model' };

/** The Debian release the images are made of. */
const SUITE = 'bookworm';
/** Changes when the way images are built changes, so images built the old way are rebuilt. */
const BUILDER_VERSION = 1;
/** Downloaded packages, kept between builds: a rebuild and the second recipe download only what is new. */
const PACKAGE_CACHE = '/var/cache/hypershield/debs';
const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface Recipe {
  name: string;
  file: string;
  packages: string[];
  hash: string;
  /** The image made from it: hypershield/NAME:HASH12. */
  image: string;
}

const RECIPES_SUBDIR = path.join('native-templates', 'docker');

/** The recipes folder, found from this code's location (dist/ one level below the package root, sources four). */
export function recipesDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, RECIPES_SUBDIR);
    if (fs.existsSync(path.join(candidate, 'model.packages'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`The container image recipes (${RECIPES_SUBDIR}) were not found above ${from}; the HyperShield installation is incomplete: reinstall it.`);
}

/**
 * Reads a recipe. Sample:
 *   # comment
 *   iproute2
 *   iperf3
 */
export function readRecipe(name: string, dir: string = recipesDir()): Recipe {
  const file = path.join(dir, `${name}.packages`);
  const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const bad = lines.filter((l) => !/^[a-z0-9][a-z0-9+.-]+$/.test(l));
  if (bad.length) throw new Error(`${file}: not Debian package names: ${bad.join(', ')} (one package per line, # for comments).`);
  const packages = [...new Set(lines)].sort();
  const hash = createHash('sha256').update(JSON.stringify({ BUILDER_VERSION, SUITE, packages })).digest('hex');
  return { name, file, packages, hash, image: `hypershield/${name}:${hash.slice(0, 12)}` };
}

/**
 * This machine's Debian apt sources for SUITE, as sources.list lines for mmdebstrap. Sample of the deb822 file read:
 *   Types: deb
 *   URIs: http://deb.debian.org/debian
 *   Suites: bookworm bookworm-updates
 *   Components: main
 *   Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
 */
export function aptSources(file = '/etc/apt/sources.list.d/debian.sources'): string[] {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { /* no deb822 sources: the default mirror */ }
  const lines: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
    if (!field('Types').includes('deb') || /^Enabled:\s*no/mi.test(stanza)) continue;
    for (const uri of field('URIs')) {
      for (const suite of field('Suites').filter((s) => s === SUITE || s.startsWith(`${SUITE}-`))) {
        lines.push(`deb ${uri} ${suite} ${field('Components').join(' ') || 'main'}`);
      }
    }
  }
  return lines.length ? lines : [`deb http://deb.debian.org/debian ${SUITE} main`];
}

/** The image of a recipe when the engine has it. */
async function findImage(docker: Docker, r: Recipe): Promise<string | undefined> {
  const images = await docker.listImages({ filters: { label: [`${LABELS.recipeHash}=${r.hash}`] }, abortSignal: engineDeadline() });
  return images.length ? r.image : undefined;
}

/** The images the workbench built that the engine keeps (for `down`'s report and for cleaning up). */
export async function builtImages(docker: Docker): Promise<string[]> {
  const images = await docker.listImages({ filters: { label: [LABELS.recipe] }, abortSignal: engineDeadline() });
  return images.flatMap((i) => i.RepoTags ?? [i.Id]).sort();
}

/** Makes sure the engine has the recipe's image, building it when it is missing or its recipe changed. */
export async function ensureImage(docker: Docker, r: Recipe, opts: { signal?: AbortSignal; progress?: Progress } = {}): Promise<string> {
  if (await findImage(docker, r)) return r.image;
  await buildImage(docker, r, opts);
  // Images of older versions of the recipe go, unless a container still uses them.
  for (const old of await docker.listImages({ filters: { label: [`${LABELS.recipe}=${r.name}`] } })) {
    if (old.Labels?.[LABELS.recipeHash] !== r.hash) await docker.getImage(old.Id).remove({ abortSignal: engineDeadline() }).catch(() => undefined);
  }
  return r.image;
}

async function buildImage(docker: Docker, r: Recipe, opts: { signal?: AbortSignal; progress?: Progress }): Promise<void> {
  const report = (what: string) => opts.progress?.report(`Building image ${r.image} (${r.packages.length} packages, once per recipe): ${what}`);
  report('starting mmdebstrap');
  fs.mkdirSync(PACKAGE_CACHE, { recursive: true });
  const argv = [
    'mmdebstrap', '--variant=minbase', `--include=${r.packages.join(',')}`,
    // The package cache goes in before apt downloads and comes back out, with what was new, after it installed.
    '--skip=download/empty', '--skip=essential/unlink',
    '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/', `--setup-hook=sync-in ${PACKAGE_CACHE} /var/cache/apt/archives/`,
    `--customize-hook=sync-out /var/cache/apt/archives ${PACKAGE_CACHE}`,
    SUITE, '-', ...aptSources(),
  ];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  const timer = setTimeout(kill, BUILD_TIMEOUT_MS);
  opts.signal?.addEventListener('abort', kill, { once: true });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    log = (log + d).slice(-20_000);
    // mmdebstrap's phases: "I: downloading packages with apt...", "I: installing remaining packages inside the chroot..."
    for (const m of d.matchAll(/^I: ([a-z][^\n]*?)\.\.\.$/gm)) report(m[1]);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT'
      ? new Error('mmdebstrap is not installed; it builds the container images from Debian packages: apt-get install mmdebstrap') : err));
    child.on('close', (code) => resolve(code));
  });
  try {
    const changes = [`LABEL ${LABELS.recipe}=${r.name}`, `LABEL ${LABELS.recipeHash}=${r.hash}`];
    const [repo, tag] = r.image.split(':');
    const imported = await docker.importImage(child.stdout, { repo, tag, changes });
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      imported.on('data', (c: Buffer) => { text += c.toString(); });
      imported.on('end', () => resolve(text));
      imported.on('error', reject);
    });
    const code = await exited;
    if (opts.signal?.aborted) throw new Error(`Building image ${r.image} was cancelled.`);
    if (code !== 0) throw new Error(`mmdebstrap failed (exit ${code}) building image ${r.image} from ${r.file}:\n${log.trim().split('\n').slice(-15).join('\n')}`);
    const error = /"error":\s*"([^"]*)"/.exec(answer);
    if (error) throw new Error(`The engine could not import image ${r.image}: ${error[1]}`);
  } catch (err) {
    kill();
    await docker.getImage(r.image).remove({ abortSignal: engineDeadline() }).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', kill);
  }
  report('done');
}
