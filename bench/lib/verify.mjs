// One plain GET to check that a server really answers the hello-world response before it is
// measured (a 502 from nginx is fast too, and wrk counts it as a request).
import http from 'node:http';

export function verifyHello(url, { timeoutMs = 5000, contentType = /^text\/plain\b/ } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const ct = res.headers['content-type'] || '';
        const problems = [];
        if (res.statusCode !== 200) problems.push(`status ${res.statusCode}`);
        if (body !== 'Hello World') problems.push(`body ${JSON.stringify(body.slice(0, 80))}`);
        if (!contentType.test(ct)) problems.push(`content-type ${JSON.stringify(ct)}`);
        if (problems.length) reject(new Error(`unexpected response from ${url}: ${problems.join(', ')}`));
        else resolve({ status: res.statusCode, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no response from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
