// Where a model's per-packet entry point is defined in its source: the function the kernel or the queue calls for
// each packet, where a build's measured cost is shown. Found from how the source registers it, else by the
// templates' own names. The templates register them like this:
//   kernel:  static const struct nf_hook_ops hs_nf_ops[] = { { .hook = hs_hook, ... } };
//   ebpf:    SEC("tc")
//            int hs_tc_ingress(struct __sk_buff *skb)
//   user:    nfq_create_queue(h, 0, &cb, NULL) with libnetfilter_queue; the template's own queue calls handle_packet()
import type { ModelPlacement } from './templates';

export interface HookFunction {
  name: string;
  /** 0-based line of the definition. */
  line: number;
}

/** The templates' entry points, used when the source does not register its own in a way recognised below. */
const TEMPLATE_HOOKS: Readonly<Record<ModelPlacement, string>> = { kernel: 'hs_hook', ebpf: 'hs_tc_ingress', user: 'handle_packet' };

/** The function name a source registers as its hook, from the registration itself. */
function registered(placement: ModelPlacement, text: string): string | undefined {
  if (placement === 'kernel') return /\.hook\s*=\s*&?\s*([A-Za-z_]\w*)/.exec(text)?.[1];
  if (placement === 'ebpf') return /\bSEC\s*\(\s*"(?:tc|tcx|classifier|xdp)[^"]*"\s*\)\s*(?:[A-Za-z_]\w*[\s*]+)*?([A-Za-z_]\w*)\s*\(/.exec(text)?.[1];
  return /\bnfq_create_queue\s*\([^,()]+,[^,()]+,\s*&?\s*([A-Za-z_]\w*)/.exec(text)?.[1];
}

/** The line where `name` is defined (its declarator followed by a body, not a prototype), or undefined. */
function definitionLine(text: string, name: string): number | undefined {
  const declarator = new RegExp(`^[A-Za-z_][\\w\\s*]*?\\b${name}\\s*\\(`, 'gm');
  for (let m = declarator.exec(text); m; m = declarator.exec(text)) {
    const rest = text.slice(m.index + m[0].length);
    const body = rest.search(/[{;]/);
    if (body >= 0 && rest[body] === '{') return text.slice(0, m.index).split('\n').length - 1;
  }
  return undefined;
}

/** The hook function of a placement defined in this source text, or undefined when it is defined elsewhere. */
export function findHookFunction(placement: ModelPlacement, text: string): HookFunction | undefined {
  for (const name of new Set([registered(placement, text), TEMPLATE_HOOKS[placement]])) {
    if (!name) continue;
    const line = definitionLine(text, name);
    if (line !== undefined) return { name, line };
  }
  return undefined;
}
