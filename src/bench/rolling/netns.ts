// N "hosts" on one machine: a network namespace per host, each with its own loopback-range
// address, joined by a veth pair to a "front" namespace where nginx runs. Linux only, needs root
// (CAP_NET_ADMIN) and iproute2. The root namespace's addresses and routes are never touched.
//
// 127.0.0.0/8 over a non-lo interface needs two things in every namespace made here:
// - `net.ipv4.conf.{all,IF}.route_localnet=1`: otherwise the kernel drops 127/8 packets that
//   arrive on or leave by a real interface as martians (Documentation/networking/ip-sysctl.rst);
// - lo holds 127.0.0.1/32 instead of 127.0.0.1/8: the /8 puts `local 127.0.0.0/8 dev lo` in the
//   local table, which would answer for every 127.x address itself instead of routing it out.
//
// Host i (1-based) is 127.0.(10+i).2 in namespace `tsgi-<tag>-h<i>`; the front end of its link is
// 127.0.(10+i).1. The tag holds the pid and a random part, so an earlier run that crashed before
// cleaning up cannot collide with this one.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface HostNs {
  /** 1-based host number. */
  index: number;
  /** Namespace name (for `ip netns exec`). */
  ns: string;
  /** The host's address, reachable from the front namespace. */
  addr: string;
}

export interface Topology {
  front: string;
  hosts: HostNs[];
  /** argv prefix that runs a command inside namespace `ns` (`ip netns exec` execs it: same pid). */
  exec(ns: string): string[];
  /** Pids of the processes still inside any of the namespaces. */
  pids(): number[];
  /** Deletes every namespace (their veths go with them). Safe to call twice. */
  destroy(): void;
}

export class NetnsError extends Error {
  readonly code = 'TSGI_ERR_NETNS';
}

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new NetnsError(`ip ${args.join(' ')}: ${r.error.message} (iproute2 installed?)`);
  if (r.status !== 0) throw new NetnsError(`ip ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function sysctl(ns: string, key: string, value: string): void {
  ip(['netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
}

/** lo up with 127.0.0.1/32 only, and 127/8 routable on other interfaces. */
function prepareNamespace(ns: string): void {
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  const lo = ip(['-n', ns, '-4', 'addr', 'show', 'dev', 'lo']);
  if (lo.includes('127.0.0.1/8')) ip(['-n', ns, 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
  ip(['-n', ns, 'addr', 'add', '127.0.0.1/32', 'dev', 'lo']);
  sysctl(ns, 'net.ipv4.conf.all.route_localnet', '1');
}

function link(front: string, host: HostNs): void {
  const frontIf = `vh${host.index}`;
  ip(['-n', front, 'link', 'add', frontIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
  const net = `127.0.${10 + host.index}`;
  ip(['-n', front, 'addr', 'add', `${net}.1/24`, 'dev', frontIf]);
  ip(['-n', host.ns, 'addr', 'add', `${net}.2/24`, 'dev', 'eth0']);
  sysctl(front, `net.ipv4.conf.${frontIf}.route_localnet`, '1');
  sysctl(host.ns, 'net.ipv4.conf.eth0.route_localnet', '1');
  ip(['-n', front, 'link', 'set', frontIf, 'up']);
  ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
}

/** Creates the front namespace and `count` host namespaces (at most 200). */
export function createTopology(count: number, tag = `${process.pid}-${randomBytes(2).toString('hex')}`): Topology {
  if (count < 1 || count > 200) throw new NetnsError(`host count ${count} out of range 1..200`);
  const front = `tsgi-${tag}-front`;
  const hosts: HostNs[] = [];
  for (let i = 1; i <= count; i++) hosts.push({ index: i, ns: `tsgi-${tag}-h${i}`, addr: `127.0.${10 + i}.2` });
  const made: string[] = [];
  const all = [front, ...hosts.map((h) => h.ns)];
  const pids = (): number[] =>
    made.flatMap((ns) => {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      return (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
    });
  const destroy = (): void => {
    process.removeListener('exit', destroy);
    for (const ns of made.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  };
  // A caller that exits without cleaning up (an uncaught error) still leaves no namespace behind.
  process.once('exit', destroy);
  try {
    for (const ns of all) {
      // Only a namespace this call added is ever deleted: `ip netns add` fails on a taken name.
      ip(['netns', 'add', ns]);
      made.push(ns);
      prepareNamespace(ns);
    }
    for (const h of hosts) link(front, h);
  } catch (e) {
    destroy();
    throw e;
  }
  return { front, hosts, exec: (ns) => ['ip', 'netns', 'exec', ns], pids, destroy };
}
