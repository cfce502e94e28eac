// The example project's app: a fetch handler, served by tsgi as `--callable app`.
export const app = {
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/') return Response.json({ hello: 'from a container', pid: process.pid });
    return new Response('not found\n', { status: 404 });
  },
};
