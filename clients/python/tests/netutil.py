"""Local network helpers for the tests: a TCP proxy that cuts a connection after N response bytes, and a tiny
HTTP server with scripted answers (for the 429/503 retry logic)."""

import http.server
import json
import socket
import threading


class CutProxy:
    """Forwards 127.0.0.1:port to the upstream port; a connection that asks for a /download and whose answer passes
    cut_after bytes is closed right there (both sides), as a network failure would."""

    def __init__(self, upstream_port, cut_after):
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cuts = 0
        self.download_sent = 0  # answer bytes passed on by /download connections
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        u = socket.create_connection(("127.0.0.1", self.upstream_port))
        try:
            first = c.recv(65536)
            u.sendall(first)
        except OSError:
            first = b""
        # only the download streams are cut, not the metadata and HEAD requests around them
        is_download = b"/download" in first.split(b"\r\n", 1)[0]
        cut_after = self.cut_after if is_download else 1 << 62

        def up():
            try:
                while True:
                    data = c.recv(65536)
                    if not data:
                        break
                    u.sendall(data)
            except OSError:
                pass
            try:
                u.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=up, daemon=True).start()
        sent = 0
        try:
            while True:
                data = u.recv(65536)
                if not data:
                    break
                if sent + len(data) >= cut_after:
                    c.sendall(data[:cut_after - sent])
                    self.download_sent += (cut_after - sent) if is_download else 0
                    self.cuts += 1
                    break
                c.sendall(data)
                sent += len(data)
                self.download_sent += len(data) if is_download else 0
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.closed = True
        self.sock.close()


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 that answers GET/HEAD from a list of (status, headers, body) in turn (the
    last one repeats); records each request path and the time it came."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                import time

                outer.requests.append((self.path, time.monotonic()))
                status, headers, body = outer.answers[min(len(outer.requests), len(outer.answers)) - 1]
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
