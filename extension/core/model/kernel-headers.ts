// Finds a kernel headers tree for the exact release of the model host's kernel, fetching the distribution's
// packages into a cache when none is installed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Progress } from '../backends/backend';
import { execLocal, runLocal } from '../util/local-process';
import { distroHeadersFor } from './distro-headers';

export type HeadersOrigin = 'testbed file' | 'installed' | 'cache' | 'downloaded';

export interface KernelHeaders {
  release: string;
  dir: string;
  origin: HeadersOrigin;
}

export interface HeadersOptions {
  /** model.kernelHeaders from the testbed file, and that file's path (for messages). */
  configured?: { dir: string; file: string };
  /** Where fetched packages are unpacked (default ~/.cache/hypershield/kernel-headers). */
  cacheDir?: string;
  signal?: AbortSignal;
  progress?: Progress;
}

export function defaultHeadersCache(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'hypershield', 'kernel-headers');
}

/** The release a headers tree was made for (from include/generated/utsrelease.h), when it says. */
export function headersRelease(dir: string): string | undefined {
  try {
    return /UTS_RELEASE\s+"([^"]+)"/.exec(fs.readFileSync(path.join(dir, 'include', 'generated', 'utsrelease.h'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Throws when dir is not a headers tree for release. */
function checkTree(dir: string, release: string, what: string): void {
  if (!fs.existsSync(path.join(dir, 'Makefile'))) throw new Error(`${what} ${dir} is not a kernel headers tree (it has no Makefile).`);
  const found = headersRelease(dir);
  if (found && found !== release) {
    throw new Error(`${what} ${dir} holds the headers of kernel ${found}, but the model host runs ${release}; a module built against it would not load.`);
  }
}

/** An installed tree for release on this machine: /lib/modules/REL/build or /usr/src/linux-headers-REL. */
export function installedHeaders(release: string): string | undefined {
  return [`/lib/modules/${release}/build`, `/usr/src/linux-headers-${release}`]
    .find((dir) => fs.existsSync(path.join(dir, 'Makefile')) && (headersRelease(dir) ?? release) === release);
}

/**
 * Downloads the distribution's headers packages for release with apt, unpacks them under cacheDir/REL/root and
 * returns the headers tree.
 */
export async function fetchDistroHeaders(release: string, cacheDir: string, opts: Pick<HeadersOptions, 'signal' | 'progress'> = {}): Promise<string> {
  const distro = distroHeadersFor(release);
  if (!distro) {
    throw new Error(`No headers for kernel ${release}: it is not named like a Debian or Ubuntu kernel, so its headers package is unknown. ` +
      'Set "model": { "kernelHeaders": "/path/to/headers" } in hypershield.testbed.json, or install the headers at /usr/src/linux-headers-' + release + '.');
  }
  const target = path.join(cacheDir, release);
  const headers = path.join(target, 'root', 'usr', 'src', `linux-headers-${release}`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(cacheDir, `.${release}.`));
  try {
    const [main, ...companions] = distro.packages(release);
    opts.progress?.report(`Fetching ${distro.distro} kernel headers for ${release} (${[main, ...companions].join(', ')})`);
    const show = await runLocal(['apt-cache', 'show', '--no-all-versions', main], { signal: opts.signal, timeoutMs: 60_000, env: { LANG: 'C', LC_ALL: 'C' } })
      .catch((err: Error) => { throw new Error(`apt does not know ${main}: ${err.message}`); });
    const version = /^Version: (\S+)$/m.exec(show)?.[1];
    if (!version) throw new Error(`apt-cache show ${main} printed no version`);
    // Companions are pinned to the headers' version when the archive still has it; Debian keeps only the newest
    // linux-kbuild-X.Y, whose scripts serve every ABI of that series.
    const pinned: string[] = [];
    for (const p of companions) {
      const has = await execLocal(['apt-cache', 'show', '--no-all-versions', `${p}=${version}`], { signal: opts.signal, timeoutMs: 60_000, env: { LANG: 'C', LC_ALL: 'C' } });
      // apt-cache exits 0 for a missing version, printing nothing.
      const available = has.code === 0 && /^Version: /m.test(has.stdout);
      pinned.push(available ? `${p}=${version}` : p);
      if (!available) opts.progress?.report(`${p} ${version} is no longer in the archive: using its newest version`);
    }
    const debs = path.join(stage, 'debs');
    fs.mkdirSync(debs);
    await runLocal(['apt-get', 'download', main, ...pinned], { cwd: debs, signal: opts.signal, timeoutMs: 300_000, env: { LANG: 'C', LC_ALL: 'C' } });
    const root = path.join(stage, 'root');
    for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith('.deb')).sort()) {
      await runLocal(['dpkg-deb', '-x', path.join(debs, deb), root], { signal: opts.signal, timeoutMs: 300_000 });
    }
    fs.rmSync(debs, { recursive: true });
    // The tree is made usable for its final place, then moved there in one step.
    distro.relocate(root, path.join(target, 'root'), release);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(stage, target);
  } catch (err) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw new Error(`Could not fetch the headers of kernel ${release}: ${(err as Error).message}\n` +
      `Install them yourself (${distro.installHint(release)}) or set "model": { "kernelHeaders": "/path/to/linux-headers-${release}" } in hypershield.testbed.json.`);
  }
  checkTree(headers, release, 'The fetched tree');
  return headers;
}

/**
 * The headers of release: the testbed file's model.kernelHeaders, else an installed tree, else the cache, else the
 * distribution's packages fetched into the cache.
 */
export async function resolveKernelHeaders(release: string, opts: HeadersOptions = {}): Promise<KernelHeaders> {
  if (opts.configured) {
    checkTree(opts.configured.dir, release, `model.kernelHeaders in ${opts.configured.file}:`);
    return { release, dir: opts.configured.dir, origin: 'testbed file' };
  }
  const installed = installedHeaders(release);
  if (installed) return { release, dir: installed, origin: 'installed' };
  const cacheDir = opts.cacheDir ?? defaultHeadersCache();
  const cached = path.join(cacheDir, release, 'root', 'usr', 'src', `linux-headers-${release}`);
  if (fs.existsSync(path.join(cached, 'Makefile'))) return { release, dir: cached, origin: 'cache' };
  return { release, dir: await fetchDistroHeaders(release, cacheDir, opts), origin: 'downloaded' };
}
