# bench app `sleep` for uWSGI 2.0 (the twin of sleep.js). uWSGI's sync workers block here, as
# a sync WSGI app does: one request per process (or thread) at a time.
import time


def application(environ, start_response):
    time.sleep(0.010)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello World']
