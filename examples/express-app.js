// An Express app as most of them end: app.listen(PORT) at import, nothing exported. tsgi
// takes over the server that listen() creates (it binds nothing, logs that it took over) and
// serves the app on its own sockets:
//   tsgi --http-socket :9090 --wsgi-file examples/express-app.js --processes 2 --master
// Exporting the app (module.exports = { app }) and passing --callable app works too.
const express = require('express');

const app = express();
app.use(express.json());
app.get('/', (req, res) => res.send('Hello from Express'));
app.get('/users/:id', (req, res) => res.json({ id: req.params.id, q: req.query.q ?? null }));
app.post('/echo', (req, res) => res.json({ got: req.body }));

app.listen(process.env.PORT ?? 3000, () => console.log('express: listening'));
