"""Stripe-shaped servers on real sockets: localstripe (a subprocess) and a replay server of recorded responses."""

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def localstripe_server():
    """Start localstripe on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    exe = shutil.which("localstripe", path=str(Path(sys.executable).parent)) or "localstripe"
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class _Replay(BaseHTTPRequestHandler):
    """Answers each (method, path) with the next recorded response and keeps the requests it saw."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path.split("?")[0]
        self.server.seen.append(
            {
                "method": self.command,
                "path": path,
                "query": self.path.partition("?")[2],
                "body": body,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "stripe_version": self.headers.get("Stripe-Version"),
            }
        )
        queue = self.server.routes.get((self.command, path)) or []
        status, payload = (
            queue.pop(0)
            if len(queue) > 1
            else (
                queue[0]
                if queue
                else (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": f"No recorded response for {self.command} {path}",
                        }
                    },
                )
            )
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@contextmanager
def recorded_stripe(routes: dict):
    """Serve recorded Stripe responses: routes = {(method, path): [(status, json), ...]} (the last repeats)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    server.routes = {key: list(value) for key, value in routes.items()}
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
