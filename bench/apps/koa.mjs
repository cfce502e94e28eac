// bench app `koa`: Koa 3's hello world (https://koajs.com/), exported as `app` for tsgi
// (--wsgi-file bench/apps/koa.mjs --callable app); its own server (own/koa) is app.listen().
import Koa from 'koa';

export const app = new Koa();
app.use((ctx) => {
  ctx.body = 'Hello World';
});
