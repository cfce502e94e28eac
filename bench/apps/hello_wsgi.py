# bench app `hello` for uWSGI 2.0 (the twin of hello.js)..
# uwsgi --plugins python3 --socket 127.0.0.1:PORT --wsgi-file bench/apps/hello_wsgi.py --disable-logging


def application(environ, start_response):
    # Content-Length as tsgi sends it, so responses are byte-identical and uWSGI's router can
    # keep the client connection alive (it needs a framed response: plugins/http/keepalive.c).
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '11')])
    return [b'Hello World']
