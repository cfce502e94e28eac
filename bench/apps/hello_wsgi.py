# Hello-world WSGI app for uWSGI 2.0, the same logic as the tsgi example app.
# uwsgi --plugins python3 --socket 127.0.0.1:PORT --wsgi-file bench/servers/hello.py --disable-logging


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello World']
