// Machine description for the results file.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';

function read(p) { try { return fs.readFileSync(p, 'utf8').trim(); } catch { return null; } }

export function machineInfo(extra = {}) {
  const cpus = os.cpus();
  const osRelease = read('/etc/os-release');
  const pretty = osRelease && /PRETTY_NAME="?([^"\n]*)"?/.exec(osRelease)?.[1];
  const sysctl = {};
  for (const k of ['net/ipv4/tcp_tw_reuse', 'net/ipv4/ip_local_port_range', 'net/core/somaxconn']) {
    sysctl[k.replaceAll('/', '.')] = read(`/proc/sys/${k}`)?.replace(/\s+/g, ' ') ?? null;
  }
  const governor = read('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor');
  const virt = spawnSync('systemd-detect-virt', [], { encoding: 'utf8' }).stdout?.trim() || null;
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: pretty ?? `${os.type()} ${os.release()}`,
    kernel: os.release(),
    virtualization: virt,
    cpufreqGovernor: governor,
    node: process.version,
    sysctl,
    ...extra,
  };
}
