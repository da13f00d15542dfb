import { run, type Host, type Role } from '../hosts/host';
import { addressPlan, type Mode, type Testbed } from './testbed';

/** One route a mode needs: on `role`, traffic for `subnet` leaves by `dev` to the next hop `via`, sent from `src`. */
export interface RouteStep {
  role: 'client' | 'server';
  subnet: string;
  via: string;
  dev: string;
  src: string;
}

/** The name of the interface on `role` that faces `peer`. */
export type InterfaceNames = (role: Role, peer: Role) => string;

/** The workbench's own testbeds (namespaces, containers, VMs) name each link end "to-<peer>". */
export const builtInInterfaces: InterfaceNames = (_role, peer) => `to-${peer}`;

/**
 * The routes that carry client<->server traffic in `mode`, both directions symmetric: in model mode each side's
 * route to the other subnet goes via the model host; in direct mode over the client-server link. The server keeps
 * its service address on the server subnet in both modes, so only these two routes differ between modes.
 */
export function routePlan(tb: Pick<Testbed, 'subnets'>, mode: Mode, iface: InterfaceNames = builtInInterfaces): [RouteStep, RouteStep] {
  const a = addressPlan(tb);
  const { client, server } = tb.subnets;
  return mode === 'model'
    ? [{ role: 'client', subnet: server, via: a.modelOnClientNet, dev: iface('client', 'model'), src: a.clientOnClientNet },
      { role: 'server', subnet: client, via: a.modelOnServerNet, dev: iface('server', 'model'), src: a.serverOnServerNet }]
    : [{ role: 'client', subnet: server, via: a.serverOnDirectNet, dev: iface('client', 'server'), src: a.clientOnClientNet },
      { role: 'server', subnet: client, via: a.clientOnDirectNet, dev: iface('server', 'client'), src: a.serverOnServerNet }];
}

/** The arguments after `ip route replace` that set one step (replace: setting it twice, or switching modes, is safe). */
export function routeReplaceArgs(step: RouteStep): string[] {
  return [step.subnet, 'via', step.via, 'dev', step.dev, 'src', step.src];
}

/** The full command line, run on the step's host, that sets it. */
export function routeReplaceArgv(step: RouteStep): string[] {
  return ['ip', 'route', 'replace', ...routeReplaceArgs(step)];
}

/** What the backends report while they route. */
export function routingMessage(mode: Mode): string {
  return `Routing traffic ${mode === 'model' ? 'through the model host' : 'directly to the server'}`;
}

/**
 * Sets the mode's routes through the client and server hosts, one `ip route replace` each, for backends whose hosts
 * run it as they are (namespaces, VMs); the SSH and docker backends apply the plan their own way.
 */
export async function applyRoutePlan(hosts: Record<'client' | 'server', Host>, tb: Pick<Testbed, 'subnets'>, mode: Mode,
  opts: { signal?: AbortSignal; progress?: { report(message: string): void }; timeoutMs: number }): Promise<void> {
  opts.progress?.report(routingMessage(mode));
  for (const step of routePlan(tb, mode)) await run(hosts[step.role], routeReplaceArgv(step), { signal: opts.signal, timeoutMs: opts.timeoutMs });
}
