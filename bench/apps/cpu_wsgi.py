# bench app `cpu` for uWSGI 2.0 (the twin of cpu.js: the same PBKDF2 work through OpenSSL).
import hashlib


def application(environ, start_response):
    digest = hashlib.pbkdf2_hmac('sha256', b'tsgi', b'bench', 5500, 32).hex().encode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [digest]
