// The machine a benchmark ran on, for the results file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

function read(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  virtualization: string | null;
  cpufreqGovernor: string | null;
  node: string;
  sysctl: Record<string, string | null>;
  [extra: string]: unknown;
}

export function machineInfo(extra: Record<string, unknown> = {}): MachineInfo {
  const cpus = os.cpus();
  const osRelease = read('/etc/os-release');
  const pretty = osRelease ? /PRETTY_NAME="?([^"\n]*)"?/.exec(osRelease)?.[1] : undefined;
  const sysctl: Record<string, string | null> = {};
  for (const k of ['net/ipv4/tcp_tw_reuse', 'net/ipv4/ip_local_port_range', 'net/core/somaxconn']) {
    sysctl[k.replaceAll('/', '.')] = read(`/proc/sys/${k}`)?.replace(/\s+/g, ' ') ?? null;
  }
  const virt = spawnSync('systemd-detect-virt', [], { encoding: 'utf8' }).stdout?.trim() || null;
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: pretty ?? `${os.type()} ${os.release()}`,
    kernel: os.release(),
    virtualization: virt,
    cpufreqGovernor: read('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'),
    node: process.version,
    sysctl,
    ...extra,
  };
}
