// bench app `express`: Express 5's hello world (https://expressjs.com/en/starter/hello-world.html)
// exported as `app` for tsgi (--wsgi-file bench/apps/express.mjs --callable app); its own
// server (own/express) is app.listen(): bench/servers/own.mjs.
import express from 'express';

export const app = express();
app.get('/', (req, res) => {
  res.send('Hello World');
});
