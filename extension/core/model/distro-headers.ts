// How each distribution names and lays out the packages with the headers of one kernel release.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DistroHeaders {
  distro: string;
  /** Which releases this distribution's packages are for, recognised by the flavour suffix. */
  matches(release: string): boolean;
  /** Packages to download for release; the first is the one whose version pins the others. */
  packages(release: string): string[];
  /**
   * Makes packages extracted under `extracted` (instead of /) usable once that folder is moved to `root`; the
   * headers tree is then root/usr/src/linux-headers-REL.
   */
  relocate(extracted: string, root: string, release: string): void;
  /** What to tell a person when the packages cannot be fetched here. */
  installHint(release: string): string;
}

const DEBIAN = /^(?<base>\d+\.\d+\.\d+-\d+)-(?<rt>rt-)?(?:cloud-)?(?:amd64|arm64|armmp|armmp-lpae|686|686-pae|loong64|powerpc64le|riscv64|s390x|rpi|marvell)$/;
const UBUNTU = /^(?<base>\d+\.\d+\.\d+-\d+)-(?:generic|generic-64k|lowlatency|aws|azure|gcp|gke|kvm|oracle|ibm|nvidia|raspi)$/;
const majorMinor = (release: string) => /^\d+\.\d+/.exec(release)?.[0] ?? release;

const DISTRO_HEADERS: readonly DistroHeaders[] = [
  {
    distro: 'Debian',
    matches: (r) => DEBIAN.test(r),
    packages: (r) => {
      const m = DEBIAN.exec(r)!.groups!;
      return [`linux-headers-${r}`, `linux-headers-${m.base}-common${m.rt ? '-rt' : ''}`, `linux-kbuild-${majorMinor(r)}`];
    },
    relocate: (extracted, root, r) => {
      // The flavour's Makefile includes the common tree by absolute path: point it into root.
      const makefile = path.join(extracted, 'usr', 'src', `linux-headers-${r}`, 'Makefile');
      const text = fs.readFileSync(makefile, 'utf8');
      fs.writeFileSync(makefile, text.replace(/^include \/usr\/src\//m, `include ${path.join(root, 'usr', 'src')}/`));
    },
    installHint: (r) => `apt-get install linux-headers-${r} (on a Debian machine whose apt sources still carry that release)`,
  },
  {
    distro: 'Ubuntu',
    matches: (r) => UBUNTU.test(r),
    packages: (r) => [`linux-headers-${r}`, `linux-headers-${UBUNTU.exec(r)!.groups!.base}`],
    // Ubuntu's flavour tree links to the common tree with relative links: nothing to fix.
    relocate: () => undefined,
    installHint: (r) => `apt-get install linux-headers-${r} (on an Ubuntu machine)`,
  },
];

export function distroHeadersFor(release: string): DistroHeaders | undefined {
  return DISTRO_HEADERS.find((d) => d.matches(release));
}
