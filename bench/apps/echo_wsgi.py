# bench app `echo` for uWSGI 2.0 (the twin of echo.js).
# Content-Length is set as tsgi sets it, so uWSGI's --http router can keep clients alive.


def application(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(length)
    start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(len(body)))])
    return [body]
