// The nginx configs `tsgi bench` writes for the points behind nginx (src/bench/nginx.ts).

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { nginxConf } from '../../src/bench/nginx';

const base = { prefix: '/tmp/p', port: 8080, upstream: '127.0.0.1:9000' };

test('the FastCGI point keeps its upstream connections: a keepalive pool and fastcgi_keep_conn', () => {
  const conf = nginxConf({ ...base, pass: 'fastcgi' });
  assert.match(conf, /upstream tsgi_backend \{ server 127\.0\.0\.1:9000; keepalive \d+; \}/);
  assert.match(conf, /include \/etc\/nginx\/fastcgi_params;\s+fastcgi_pass tsgi_backend;\s+fastcgi_keep_conn on;/);
  assert.match(conf, /fastcgi_buffers 8 16k;/);
});

test('the uwsgi and SCGI points pass straight to the address with the stock params', () => {
  const uwsgi = nginxConf(base);
  assert.match(uwsgi, /include \/etc\/nginx\/uwsgi_params;\s+uwsgi_pass 127\.0\.0\.1:9000;/);
  assert.doesNotMatch(uwsgi, /upstream /);
  const scgi = nginxConf({ ...base, pass: 'scgi' });
  assert.match(scgi, /include \/etc\/nginx\/scgi_params;\s+scgi_pass 127\.0\.0\.1:9000;/);
  assert.match(scgi, /scgi_buffer_size 16k;/);
});
