"""The benchmark application for the Python peers: the twin of samples/bench (devserve).

    /hello                    "Hello world!\\n" with its Content-Length
    /stream?n=20&delay_ms=5   n chunks "S<i> <CLOCK_MONOTONIC ns>E\\n", delay_ms apart
    /echo                     the request body back
"""
import time
from urllib.parse import parse_qs

HELLO = b"Hello world!\n"


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/stream":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        count = int(query.get("n", ["20"])[0])
        delay = int(query.get("delay_ms", ["5"])[0]) / 1000
        start_response("200 OK", [("Content-Type", "text/plain")])

        def chunks():
            for index in range(1, count + 1):
                if index > 1:
                    time.sleep(delay)
                yield f"S{index} {time.monotonic_ns()}E\n".encode()

        return chunks()
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]
