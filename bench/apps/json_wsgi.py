# bench app `json` for uWSGI 2.0 (the twin of json.js: the same document, the same bytes).
# Content-Length is set as tsgi sets it, so uWSGI's --http router can keep clients alive.
import json


def document():
    items = [{'id': i, 'name': 'item-%d' % i, 'tags': ['a', 'b', 'c'], 'price': 100 + i} for i in range(16)]
    return {'ok': True, 'server': 'bench', 'count': len(items), 'items': items}


def application(environ, start_response):
    body = json.dumps(document(), separators=(',', ':')).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]
