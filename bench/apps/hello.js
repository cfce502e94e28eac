// The tsgi hello-world app (same content as examples/foobar.js); bench/hello.mjs uses
// examples/foobar.js when it exists and this file otherwise.
exports.application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return 'Hello World';
};
