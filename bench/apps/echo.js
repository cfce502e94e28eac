// bench app `echo`: answers the request body (the harness POSTs 64 KiB).
exports.application = async (environ, startResponse) => {
  const body = new Uint8Array(await environ['tsgi.input'].arrayBuffer());
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return body;
};
