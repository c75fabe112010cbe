"""A real HTTP server on 127.0.0.1 in a thread, standing in for a partner's endpoint in tests.

It records every request and answers from a queue of (status, body) replies, then with the
default reply; a reply of ``HANG`` holds the answer until the server stops (read timeouts).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    replies: list = field(default_factory=list)
    default: tuple = (200, b'{"ok": true}', {})
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reply(self, *replies) -> None:
        self.replies.extend(replies)

    def posts_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server looks up
            self.answer()

        def do_GET(self) -> None:  # noqa: N802
            self.answer()

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.requests.append(Received(self.command, self.path, dict(self.headers), body))
            reply = receiver.replies.pop(0) if receiver.replies else receiver.default
            if reply == HANG:
                receiver.released.wait(30)
                return
            status, content, *more = reply
            headers = more[0] if more else {}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format, *args) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server=server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    receiver.released.set()
    receiver.server.shutdown()
    receiver.server.server_close()
