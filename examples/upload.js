// Reads the request body chunk by chunk: a 1 GB upload never sits in memory.
//   curl -T big.iso http://127.0.0.1:9090/
// Serve it with:  tsgi --http :9090 --wsgi-file examples/upload.js
const { createHash } = require('node:crypto');

exports.application = async (environ, startResponse) => {
  const input = environ['tsgi.input'];
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of input) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  } catch (err) {
    // The client went away or the body was cut short: truncation is never silent.
    environ['tsgi.errors'].write(`upload failed after ${bytes} bytes: ${err.message}\n`);
    startResponse('400 Bad Request', [['Content-Type', 'text/plain']]);
    return 'incomplete upload\n';
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return `${bytes} bytes, sha256 ${hash.digest('hex')}\n`;
};
