# bench app `cpu` for uWSGI 2.0 (the twin of cpu.js: the same PBKDF2 work through OpenSSL).
# Content-Length is set as tsgi sets it, so uWSGI's --http router can keep clients alive.
import hashlib


def application(environ, start_response):
    digest = hashlib.pbkdf2_hmac('sha256', b'tsgi', b'bench', 5500, 32).hex().encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(digest)))])
    return [digest]
