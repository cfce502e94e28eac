// Checks the nginx helper against a tiny TCP backend that reads one uwsgi packet and answers a raw
// HTTP response, so the helper is proven before tsgi exists.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { findNginx, type NginxHandle, startNginx } from './nginx';

/** Decode a uwsgi packet's vars block (4-byte header: modifier1, u16le size, modifier2). */
function decodeUwsgiVars(buf: Buffer): { modifier1: number; modifier2: number; vars: [string, string][] } {
  const size = buf.readUInt16LE(1);
  const vars: [string, string][] = [];
  let off = 4;
  while (off < 4 + size) {
    const kl = buf.readUInt16LE(off);
    off += 2;
    const k = buf.toString('latin1', off, off + kl);
    off += kl;
    const vl = buf.readUInt16LE(off);
    off += 2;
    const v = buf.toString('latin1', off, off + vl);
    off += vl;
    vars.push([k, v]);
  }
  return { modifier1: buf[0], modifier2: buf[3], vars };
}

/** A backend that answers each uwsgi request with its decoded vars as JSON, then closes. */
function fakeUwsgiBackend(): net.Server {
  return net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readUInt16LE(1)) return;
      const body = JSON.stringify(decodeUwsgiVars(buf));
      sock.end(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    sock.on('error', () => {});
  });
}

function listen(server: net.Server, where: number | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'string') server.listen(where, resolve);
    else server.listen(where, '127.0.0.1', resolve);
  });
}

function get(
  port: number,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('test/integration/helpers/nginx', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('finds nginx (a missing nginx is a failure, not a skip)', () => {
    assert.ok(findNginx());
  });

  it('proxies to a TCP uwsgi backend with the stock uwsgi_params', async () => {
    const backend = fakeUwsgiBackend();
    await listen(backend, 0);
    cleanup.push(() => new Promise<void>((r) => backend.close(() => r())));
    const { port: bport } = backend.address() as net.AddressInfo;
    const ngx = await startNginx({ upstream: `127.0.0.1:${bport}` });
    cleanup.push(() => ngx.stop());

    const res = await get(ngx.port, '/a%20b/c?x=1', { 'X-Test': 'yes' });
    assert.equal(res.status, 200, ngx.errorLog());
    const pkt = JSON.parse(res.body) as ReturnType<typeof decodeUwsgiVars>;
    assert.equal(pkt.modifier1, 0);
    assert.equal(pkt.modifier2, 0);
    const vars = new Map(pkt.vars);
    assert.equal(vars.get('REQUEST_METHOD'), 'GET');
    assert.equal(vars.get('REQUEST_URI'), '/a%20b/c?x=1');
    assert.equal(vars.get('PATH_INFO'), '/a b/c');
    assert.equal(vars.get('QUERY_STRING'), 'x=1');
    assert.equal(vars.get('SERVER_PORT'), String(ngx.port));
    assert.equal(vars.get('REMOTE_ADDR'), '127.0.0.1');
    assert.equal(vars.get('HTTP_X_TEST'), 'yes');
    // Debian's uwsgi_params ends with HTTP_HOST $host (port stripped).
    assert.equal(vars.get('HTTP_HOST'), '127.0.0.1');
    assert.match(ngx.config, /include \/etc\/nginx\/uwsgi_params;/);
  });

  it('proxies to a UNIX-socket backend (unix:/path)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-nginx-test-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sockPath = path.join(dir, 'backend.sock');
    const backend = fakeUwsgiBackend();
    await listen(backend, sockPath);
    cleanup.push(() => new Promise<void>((r) => backend.close(() => r())));
    const ngx = await startNginx({ upstream: `unix:${sockPath}` });
    cleanup.push(() => ngx.stop());

    const res = await get(ngx.port, '/unix');
    assert.equal(res.status, 200, ngx.errorLog());
    assert.equal(new Map((JSON.parse(res.body) as ReturnType<typeof decodeUwsgiVars>).vars).get('PATH_INFO'), '/unix');
  });

  it('answers 502 when the backend is down, and stop() closes the port and removes the prefix', async () => {
    const spare = net.createServer();
    await listen(spare, 0);
    const { port: deadPort } = spare.address() as net.AddressInfo;
    await new Promise<void>((r) => spare.close(() => r()));
    const ngx: NginxHandle = await startNginx({ upstream: `127.0.0.1:${deadPort}` });
    try {
      const res = await get(ngx.port, '/');
      assert.equal(res.status, 502);
      assert.match(ngx.errorLog(), /Connection refused/);
    } finally {
      await ngx.stop();
    }
    assert.equal(await portOpen(ngx.port), false);
    assert.equal(fs.existsSync(ngx.prefix), false);
    assert.throws(() => process.kill(ngx.pid, 0));
  });

  it('throws with the reason when nginx is not installed', async () => {
    await assert.rejects(
      startNginx({ upstream: '127.0.0.1:1', nginxBinary: '/nonexistent/nginx' }),
      /nginx is not installed/,
    );
  });

  it("throws with nginx's own message when the config is invalid", async () => {
    await assert.rejects(
      startNginx({ upstream: '127.0.0.1:1', locationBody: 'no_such_directive on;' }),
      /could not start nginx: .*unknown directive "no_such_directive"/s,
    );
  });
});
