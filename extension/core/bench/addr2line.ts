/** A source position of an address; inlined calls give several, innermost first. */
export interface SourceFrame {
  function: string;
  /** As the debug info names it: an absolute path on the build machine. Undefined when unknown ("??"). */
  file?: string;
  line?: number;
}

const ADDRESS = /^0x([0-9a-f]+)$/;
const POSITION = /^(.*):(\d+|\?)(?: \(discriminator \d+\))?$/;

/**
 * Parses `addr2line -a -f -i -e FILE ADDR...` (addr2line(1)): each address on a line of its own, then for it
 * and every function inlined into it a function-name line and a FILE:LINE line, innermost first; "??" and
 * "??:0" stand for unknown. Keyed by the address as a number. Sample (binutils 2.40, the user-space template):
 *
 *   0x0000000000003909
 *   ft_lookup
 *   /tmp/hs-hfscratch-D0CScG/model/user_space_model.c:333
 *   handle_packet
 *   /tmp/hs-hfscratch-D0CScG/model/user_space_model.c:551
 *   0x0000000000004853
 *   hs_pq_recv_burst
 *   /tmp/hs-hfscratch-D0CScG/model/packet_queue.c:272 (discriminator 3)
 */
export function parseAddr2line(text: string): Map<number, SourceFrame[]> {
  const out = new Map<number, SourceFrame[]>();
  const lines = text.split('\n').filter((l) => l.length > 0);
  let frames: SourceFrame[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const address = ADDRESS.exec(lines[i]);
    if (address) {
      frames = [];
      out.set(parseInt(address[1], 16), frames);
      continue;
    }
    const position = POSITION.exec(lines[i + 1] ?? '');
    if (!frames || !position) throw new Error(`addr2line: unexpected line "${lines[i]}" (expected an address, or a function followed by FILE:LINE, from addr2line -a -f -i)`);
    const fn = lines[i];
    const line = Number(position[2]);
    frames.push({
      function: fn,
      ...(position[1] !== '??' ? { file: position[1] } : {}),
      ...(line > 0 ? { line } : {}),
    });
    i += 1;
  }
  return out;
}
