// Streaming output. /        : an async generator, one chunk per 100 ms (sent chunked)
//                   /write   : startResponse's write(), then return nothing
// Serve it with:  tsgi --http :9090 --wsgi-file examples/stream.mjs
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function* ticks(count) {
  for (let i = 1; i <= count; i++) {
    yield `tick ${i}\n`;
    await sleep(100);
  }
}

export function application(environ, startResponse) {
  if (environ.PATH_INFO === '/write') {
    const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
    write('pushed with write()\n');
    write(new TextEncoder().encode('bytes work too\n'));
    return undefined;
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ticks(10); // tsgi pulls the next chunk only when the client keeps up
}
