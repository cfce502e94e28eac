# bench app `echo` for uWSGI 2.0 (the twin of echo.js).


def application(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(length)
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return [body]
