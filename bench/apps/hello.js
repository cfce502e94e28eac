// bench app `hello`: 200, text/plain, "Hello World" (the same answer as every twin).
exports.application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return 'Hello World';
};
