exports.application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/html']]);
  return 'Hello World';
};
