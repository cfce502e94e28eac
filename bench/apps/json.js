// bench app `json`: a ~1 KB JSON document, built and serialised per request.
const { jsonDocument } = require('./shared.js');

exports.application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return JSON.stringify(jsonDocument());
};
