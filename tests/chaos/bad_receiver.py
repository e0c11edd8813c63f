"""A webhook receiver that misbehaves on purpose, one way per path, for the receiver-chaos scenario.

  /reset   reads the request, then resets the connection (RST, no response)
  /half    sends a status line, headers and part of the body it announced, then closes
  /slow    sends a 200 whose 100 KB body comes at 1 byte per second
  /huge    sends a 200 announcing 1 GiB and streams it as fast as the client reads
The TLS port accepts connections, reads the ClientHello and never answers it.
Every mode keeps going only while the client stays connected, so a client that gives up frees the
thread. Standard library only.
"""
import socket
import struct
import threading
import time


def _read_request(conn):
    """Reads headers and the Content-Length body; returns the path or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return lines[0].split(" ")[1]


def _serve_http(conn, counts):
    try:
        path = _read_request(conn)
        if path is None:
            return
        mode = path.strip("/").split("/")[0]
        counts[mode] = counts.get(mode, 0) + 1
        if mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "half":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\npartial")
        elif mode == "slow":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
            for _ in range(100000):
                conn.sendall(b"x")
                time.sleep(1)
        elif mode == "huge":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\n\r\n")
            block = b"x" * 65536
            for _ in range(1073741824 // len(block)):
                conn.sendall(block)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    except OSError:
        pass  # the client gave up: that is the point
    finally:
        conn.close()


def _serve_tls_hang(conn):
    try:
        conn.settimeout(600)
        while conn.recv(65536):
            pass  # swallow the ClientHello and anything after it; never answer
    except OSError:
        pass
    finally:
        conn.close()


def _accept_loop(sock, handler):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


class BadReceiver:
    def __init__(self):
        self.counts = {}
        self.http = socket.create_server(("127.0.0.1", 0))
        self.tls = socket.create_server(("127.0.0.1", 0))
        self.http_port = self.http.getsockname()[1]
        self.tls_port = self.tls.getsockname()[1]
        threading.Thread(target=_accept_loop, args=(self.http, lambda c: _serve_http(c, self.counts)),
                         daemon=True).start()
        threading.Thread(target=_accept_loop, args=(self.tls, _serve_tls_hang), daemon=True).start()

    def close(self):
        self.http.close()
        self.tls.close()
