// A Koa app: tsgi recognises the instance (it serves app.callback()).
//   tsgi --http-socket :9090 --wsgi-file examples/koa-app.mjs --callable app
import Koa from 'koa';

export const app = new Koa();

app.use(async (ctx) => {
  if (ctx.path === '/') ctx.body = 'Hello from Koa';
  else if (ctx.path.startsWith('/users/')) ctx.body = { id: ctx.path.slice(7), q: ctx.query.q ?? null };
});
