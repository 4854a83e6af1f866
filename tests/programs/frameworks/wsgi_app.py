"""A WSGI app for gunicorn; lines marked '# worker' run only in gunicorn's workers."""


def app(environ, start_response):
    body = b"hello"  # worker
    start_response("200 OK", [("Content-Length", str(len(body)))])  # worker
    return [body]  # worker
