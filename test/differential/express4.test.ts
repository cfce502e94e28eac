// Express 4 under app.listen() and under tsgi (a node:http request listener).

import { describeFramework } from './runner';

describeFramework({ name: 'express4', title: 'Express 4', file: 'express4.cjs', allow: [] });
