// Express 5 under app.listen() and under tsgi (a node:http request listener).

import { describeFramework } from './runner';

describeFramework({ name: 'express5', title: 'Express 5', file: 'express5.cjs', allow: [] });
