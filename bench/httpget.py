"""One HTTP/1.1 GET on a new connection to 127.0.0.1, read until the server closes: the probe
the benchmark scripts share."""
import socket


def get(port, path, timeout=10.0):
    """The raw response to `GET path` (Connection: close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
