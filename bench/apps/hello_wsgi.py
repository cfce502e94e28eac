# bench app `hello` for uWSGI 2.0 (the twin of hello.js)..
# uwsgi --plugins python3 --socket 127.0.0.1:PORT --wsgi-file bench/apps/hello_wsgi.py --disable-logging


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello World']
