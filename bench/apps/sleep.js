// bench app `sleep`: awaits a 10 ms timer, then answers "Hello World" (where --async matters).
const { SLEEP_MS } = require('./shared.js');

exports.application = async (environ, startResponse) => {
  await new Promise((resolve) => setTimeout(resolve, SLEEP_MS));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return 'Hello World';
};
