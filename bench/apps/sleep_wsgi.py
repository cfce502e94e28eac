# bench app `sleep` for uWSGI 2.0 (the twin of sleep.js). uWSGI's sync workers block here, as
# Content-Length is set as tsgi sets it, so uWSGI's --http router can keep clients alive.
# a sync WSGI app does: one request per process (or thread) at a time.
import time


def application(environ, start_response):
    time.sleep(0.010)
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '11')])
    return [b'Hello World']
