// The tsgi hello-world app for bench/hello.mjs: the same response as the comparison servers
// (200, Content-Type text/plain, "Hello World").
exports.application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return 'Hello World';
};
