// Small statistics for rounds: medians, spreads, and the saturation detector.

export function median(xs: number[]): number | null {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (!n) return null;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Sample standard deviation (n − 1), 0 for fewer than two values. */
export function stddev(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs)!;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** (max − min) / median, in percent; null without a median. */
export function spreadPct(xs: number[]): number | null {
  const m = median(xs);
  if (m === null || m === 0) return null;
  return (100 * (Math.max(...xs) - Math.min(...xs))) / m;
}

/** At or above this share of its CPUs, a side counts as saturated. */
export const SATURATED = 0.9;

export interface SaturationInput {
  /** Client CPU use per run, in CPUs. */
  clientCpu: (number | null)[];
  /** CPUs the client may use (pinned set size, capped by autocannon workers + 1). */
  clientCapacity: number;
  /** Server CPU use per run, in CPUs. */
  serverCpu: (number | null)[];
  /** CPUs the server may use. */
  serverCapacity: number;
  /** CPU used by other work on the machine per run, in CPUs (optional). */
  otherCpu?: number[];
}

/** Other work above this many CPUs during a run makes an unsaturated run "contended". */
export const CONTENDED = 0.15;

export interface Saturation {
  /** Which side limited throughput: the load generator, the server, or neither (latency-bound). */
  limit: 'client' | 'server' | 'contended' | 'neither' | 'unknown';
  clientShare: number | null;
  serverShare: number | null;
  note: string;
}

/**
 * Decide whether a point measured the server or the client. The client is the limit when, in
 * any run, it used ≥ 90 % of the CPUs it had: the server may then be faster than reported.
 */
export function detectSaturation(i: SaturationInput): Saturation {
  const c = i.clientCpu.filter((x): x is number => x !== null && Number.isFinite(x));
  const s = i.serverCpu.filter((x): x is number => x !== null && Number.isFinite(x));
  const clientShare = c.length && i.clientCapacity > 0 ? Math.max(...c) / i.clientCapacity : null;
  const serverShare = s.length && i.serverCapacity > 0 ? Math.max(...s) / i.serverCapacity : null;
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  if (clientShare === null && serverShare === null)
    return { limit: 'unknown', clientShare, serverShare, note: 'no CPU figures' };
  if (clientShare !== null && clientShare >= SATURATED) {
    return {
      limit: 'client',
      clientShare,
      serverShare,
      note: `client-bound: the load generator used ${pct(clientShare)} of its ${i.clientCapacity} CPU(s); the server may be faster than shown`,
    };
  }
  if (serverShare !== null && serverShare >= SATURATED) {
    return {
      limit: 'server',
      clientShare,
      serverShare,
      note: `server-bound (${pct(serverShare)} of its ${i.serverCapacity} CPU(s))`,
    };
  }
  const other = Math.max(0, ...(i.otherCpu ?? []));
  if (other >= CONTENDED) {
    return {
      limit: 'contended',
      clientShare,
      serverShare,
      note: `neither side saturated while other work used up to ${pct(other)} of a CPU: the machine was contended, the figure is a floor`,
    };
  }
  return {
    limit: 'neither',
    clientShare,
    serverShare,
    note:
      `neither side saturated (client ${clientShare === null ? '?' : pct(clientShare)}, server ${serverShare === null ? '?' : pct(serverShare)}): ` +
      'latency- or concurrency-bound',
  };
}
