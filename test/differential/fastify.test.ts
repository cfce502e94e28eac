// Fastify (@fastify/cookie, @fastify/formbody, @fastify/multipart) under fastify.listen() and
// under tsgi (a Fastify instance).

import { describeFramework } from './runner';

describeFramework({ name: 'fastify', title: 'Fastify', file: 'fastify.mjs', allow: [] });
