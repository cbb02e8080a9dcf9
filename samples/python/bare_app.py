"""A bare PEP 3333 application: every feature of the gateway, no framework.

    devserve samples/python/bare_app.py

Routes: /  /environ  /echo /read-all /lines (POST)  /write  /buffers  /stream?n=5&delay_ms=200
/file  /exc-info  /exc-info-late  /error  /print  /str-chunk  /close  /crash  /slow?ms=500
"""
import ctypes
import json
import sys
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    handler = ROUTES.get(path)
    if handler is None:
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: " + path.encode("latin-1") + b"\n"]
    return handler(environ, start_response, query)


def hello(environ, start_response, query):
    body = b"Hello from Python!\n"
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def show_environ(environ, start_response, query):
    """Every key with its value (native strings) or the type of the wsgi.* objects."""
    described = {}
    for key, value in environ.items():
        described[key] = value if type(value) is str else "<%s>" % type(value).__name__
        if type(value) in (bool, tuple):
            described[key] = repr(value)
    # Middleware and frameworks change the environ; the record shows what this left behind.
    environ["bare_app.keys"] = len(described)
    environ.pop("REQUEST_URI", None)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(described, sort_keys=True, indent=1).encode()]


def echo(environ, start_response, query):
    """The request body, read whole with wsgi.input.read(CONTENT_LENGTH), or to its end when it
    came chunked (wsgi.input_terminated)."""
    length = environ.get("CONTENT_LENGTH")
    body = environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", environ.get("CONTENT_TYPE") or "application/octet-stream"), ("Content-Length", str(len(body)))])
    return [body]


def read_all(environ, start_response, query):
    """read() without a size reads to the end of the body (beyond PEP 3333, as gunicorn does)."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


def lines(environ, start_response, query):
    """The body's lines, read with readline(), readlines() and iteration in turn."""
    stream = environ["wsgi.input"]
    first = stream.readline()
    second = stream.readlines(1)
    rest = list(stream)
    counts = "readline %d, readlines %d, iteration %d\n" % (len(first), len(second), len(rest))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [counts.encode(), first] + second + rest


def imperative(environ, start_response, query):
    """write() before the returned iterable, as imperative frameworks do."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written first\n")
    write(b"then more\n")
    return [b"then the iterable\n"]


def buffers(environ, start_response, query):
    """bytearray and memoryview are accepted as chunks and by write() (wsgiref.validate is
    stricter and wants bytes)."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(bytearray(b"a bytearray, "))
    return [memoryview(b"a memoryview\n")]


def stream(environ, start_response, query):
    """A generator: each chunk goes out as it is produced."""
    count = int(query.get("n", ["5"])[0])
    delay = int(query.get("delay_ms", ["200"])[0]) / 1000

    def chunks():
        for index in range(count):
            yield ("chunk %d of %d\n" % (index + 1, count)).encode()
            if index + 1 < count:
                time.sleep(delay)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return chunks()


def file(environ, start_response, query):
    """wsgi.file_wrapper: a real file goes out through the host's sendfile path."""
    handle = open(__file__, "rb")
    start_response("200 OK", [("Content-Type", "text/x-python")])
    return environ["wsgi.file_wrapper"](handle, 4096)


def exc_info(environ, start_response, query):
    """start_response with exc_info before anything was sent: the error page replaces it."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("the report could not be built")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"the report failed; see wsgi.errors\n"]


def exc_info_late(environ, start_response, query):
    """exc_info after the headers went out: start_response re-raises, the response is aborted."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"partial ")
    try:
        raise KeyError("late")
    except KeyError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"never sent\n"]


def error(environ, start_response, query):
    return {}["missing"]


def printing(environ, start_response, query):
    """print() while a request runs is recorded with it."""
    print("printed while serving", environ["PATH_INFO"])
    environ["wsgi.errors"].write("written to wsgi.errors\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"printed\n"]


def str_chunk(environ, start_response, query):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["a str is not bytes"]


def crash(environ, start_response, query):
    """A segfault in C code: the worker dies, this request is blamed, the next is served."""
    ctypes.string_at(0)


def slow(environ, start_response, query):
    time.sleep(int(query.get("ms", ["500"])[0]) / 1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept\n"]


class Closing:
    """An iterable whose close() the server must call once."""

    def __init__(self, errors):
        self.errors = errors

    def __iter__(self):
        yield b"one\n"
        yield b"two\n"

    def close(self):
        self.errors.write("close() called\n")


def closing(environ, start_response, query):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing(environ["wsgi.errors"])


ROUTES = {
    "/": hello, "/environ": show_environ, "/echo": echo, "/lines": lines, "/write": imperative,
    "/stream": stream, "/file": file, "/exc-info": exc_info, "/exc-info-late": exc_info_late,
    "/error": error, "/print": printing, "/str-chunk": str_chunk, "/crash": crash, "/slow": slow,
    "/close": closing, "/buffers": buffers, "/read-all": read_all,
}
