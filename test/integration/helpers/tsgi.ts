// Spawns the real tsgi CLI for integration tests and talks to it over loopback.
// Every instance is started with port 0 where possible; the bound ports are read from the
// startup log ("tsgi socket N bound to TCP address host:port (proto) fd F").

import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'bin', 'tsgi.js');
export const APPS = path.join(ROOT, 'test', 'fixtures', 'apps');

export interface TsgiHandle {
  proc: ChildProcess;
  /** Bound TCP ports in socket order (0 for UNIX sockets). */
  ports: number[];
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when a line matching `re` appears in the output (bounded by timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and resolves with the exit code (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How many "bound to" lines to wait for (default: until "spawned tsgi worker"). */
  timeoutMs?: number;
  /** A command that runs tsgi (e.g. ['prlimit', '--nofile=64:64']): it must exec it, keeping the pid. */
  prefix?: string[];
}

/** Starts `tsgi ...args` and waits until it serves. Rejects with the output if it exits. */
export async function startTsgi(args: string[], opts: StartOptions = {}): Promise<TsgiHandle> {
  const argv = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const proc = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    out += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, sig) => {
      exited = code ?? (sig ? 128 : null);
      for (const w of waiters.splice(0)) w();
      resolve(code);
    });
  });

  // The bound only ends a test that is already failing: events come when they come (an app
  // loading under ASan on a busy machine takes seconds), so it is generous.
  const waitFor = (re: RegExp, timeoutMs = 60000): Promise<string> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${out}`)), timeoutMs);
      const check = (): void => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(deadline);
          resolve(m[0]);
        } else if (exited !== undefined) {
          clearTimeout(deadline);
          reject(new Error(`tsgi exited (${exited}) before ${re}; output:\n${out}`));
        } else {
          waiters.push(check);
        }
      };
      check();
    });

  const handle: TsgiHandle = {
    proc,
    ports: [],
    output: () => out,
    waitFor,
    stop: async (signal = 'SIGTERM', timeoutMs = 10000) => {
      if (exited !== undefined) return exited;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
  await waitFor(/spawned tsgi worker/, opts.timeoutMs ?? 60000);
  for (const m of out.matchAll(/tsgi socket \d+ bound to (TCP|UNIX) address (\S+)/g)) {
    handle.ports.push(m[1] === 'TCP' ? Number(m[2].slice(m[2].lastIndexOf(':') + 1)) : 0);
  }
  return handle;
}

/** The TCP port of the --stats or --metrics listener, from its startup line (127.0.0.1:0). */
export async function listenerPort(tsgi: TsgiHandle, what: 'Stats' | 'Metrics'): Promise<number> {
  const line = await tsgi.waitFor(new RegExp(`\\*\\*\\* ${what} server enabled on 127\\.0\\.0\\.1:\\d+`));
  return Number(line.slice(line.lastIndexOf(':') + 1));
}

/** Runs tsgi expecting it to exit (a startup error): resolves with code and output. */
export function runTsgi(args: string[], opts: StartOptions = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tsgi did not exit within ${opts.timeoutMs ?? 60000} ms; output:\n${out}`));
    }, opts.timeoutMs ?? 60000);
    proc.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, output: out });
    });
  });
}

/** Sends raw bytes and collects everything until the server closes (or timeoutMs). */
export function rawExchange(
  target: { port: number; host?: string } | { path: string },
  chunks: Array<string | Buffer>,
  opts: {
    timeoutMs?: number;
    gapMs?: number;
    endInput?: boolean;
    /** Ends the exchange once this holds (then `settleMs` later, to see a close that follows). */
    until?: (data: Buffer) => boolean;
    settleMs?: number;
  } = {},
): Promise<{ data: Buffer; closed: boolean; error?: string }> {
  return new Promise((resolve) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed, error });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    let settling = false;
    sock.on('data', (d) => {
      parts.push(d);
      if (opts.until !== undefined && !settling && opts.until(Buffer.concat(parts))) {
        settling = true;
        setTimeout(() => finish(false), opts.settleMs ?? 100);
      }
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e: NodeJS.ErrnoException) => finish(true, e.code));
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        sock.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endInput) sock.end();
    });
  });
}

/** Builds a uwsgi packet (modifier1, vars, body). */
export function uwsgiPacket(
  vars: Array<[string, string]>,
  body: string | Buffer = '',
  modifier1 = 0,
  modifier2 = 0,
): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of vars) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    const kl = Buffer.alloc(2);
    kl.writeUInt16LE(kb.length);
    const vl = Buffer.alloc(2);
    vl.writeUInt16LE(vb.length);
    parts.push(kl, kb, vl, vb);
  }
  const block = Buffer.concat(parts);
  const head = Buffer.from([modifier1, block.length & 0xff, block.length >> 8, modifier2]);
  return Buffer.concat([head, block, Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

/** Splits a raw HTTP/1.x response stream into {status, headers, body} records (Content-Length
 *  or chunked framing; the last one may be close-delimited). */
export function parseResponses(
  data: Buffer,
): Array<{ status: number; headers: Record<string, string>; body: string; raw: string }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: string; raw: string }> = [];
  let s = data.toString('latin1');
  while (s.length > 0) {
    const end = s.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = s.slice(0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    let rest = s.slice(end + 4);
    let body = '';
    if (status < 200 || status === 204 || status === 304) {
      // no body
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const le = rest.indexOf('\r\n');
        const size = le < 0 ? NaN : parseInt(rest.slice(0, le), 16);
        if (Number.isNaN(size)) break; // a cut chunked body: keep what arrived

        rest = rest.slice(le + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf('\r\n') + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    } else {
      body = rest;
      rest = '';
    }
    out.push({ status, headers, body, raw: s.slice(0, s.length - rest.length) });
    s = rest;
  }
  return out;
}
