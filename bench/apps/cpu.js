// bench app `cpu`: ~1 ms of CPU per request (PBKDF2, see shared.js), answers the hex digest
// (where processes and threads matter).
const { cpuWork } = require('./shared.js');

exports.application = (environ, startResponse) => {
  const digest = cpuWork();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return digest;
};
