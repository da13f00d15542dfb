// tar-fs 2 (a dependency of dockerode) ships no types: the part of its API the docker backend uses.
declare module 'tar-fs' {
  import type { Readable, Writable } from 'node:stream';
  interface Headers { name: string; type?: string; linkname?: string }
  interface Options { entries?: string[]; map?: (header: Headers) => Headers; chown?: boolean; dereference?: boolean }
  export function pack(cwd: string, opts?: Options): Readable;
  export function extract(cwd: string, opts?: Options): Writable;
}
