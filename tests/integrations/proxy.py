"""A real HTTP proxy on 127.0.0.1 in a thread, in front of a real service (the reference ERP
connector or the CRM sandbox), that passes every request on unless a test asked it to answer
something else: an error status, garbage, an oversized body, or to hold a request until released.

``when(match, action)`` adds a rule; ``match(request)`` sees the method, path, body and how many
requests to that path came before; the first matching rule with uses left acts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

PASS = "pass"


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    number: int  # how many requests to this path came before


@dataclass
class Rule:
    match: Callable[[Seen], bool]
    # (status, body) | PASS | callable(seen, forward) -> (status, body) | PASS, where forward()
    # passes the request on and returns the upstream's (status, body, headers)
    action: object
    uses: int | None = None


@dataclass
class Proxy:
    upstream: str
    server: ThreadingHTTPServer | None = None
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def when(self, match: Callable[[Seen], bool], action, uses: int | None = None) -> None:
        self.rules.append(Rule(match, action, uses))

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def _rule(self, seen: Seen) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if (rule.uses is None or rule.uses > 0) and rule.match(seen):
                    if rule.uses is not None:
                        rule.uses -= 1
                    return rule
        return None


def start_proxy(upstream: str) -> Proxy:
    proxy = Proxy(upstream=upstream.rstrip("/"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with proxy.lock:
                number = sum(1 for s in proxy.seen if s.path.split("?")[0] == self.path.split("?")[0])
                seen = Seen(self.command, self.path, body, number)
                proxy.seen.append(seen)
            rule = proxy._rule(seen)
            action = rule.action if rule else PASS
            if callable(action):
                action = action(seen, lambda: self._upstream(body))
            if action is None or action == PASS:
                status, content, headers = self._upstream(body)
                self._send(status, content, headers)
            else:
                status, content = action
                self._send(status, content, {"Content-Type": "application/json"})

        def _upstream(self, body: bytes) -> tuple[int, bytes, dict]:
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("host", "content-length", "connection")
            }
            try:
                answer = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=60,
                )
            except requests.RequestException:
                return 502, b"upstream unreachable", {}
            passed = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() in ("content-type", "www-authenticate", "location")
            }
            return answer.status_code, answer.content, passed

        def _send(self, status: int, content: bytes, headers: dict) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any  # noqa: N815 - names http.server looks up

        def log_message(self, format, *args) -> None:
            pass

    proxy.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.server.daemon_threads = True
    threading.Thread(target=proxy.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return proxy


def stop_proxy(proxy: Proxy) -> None:
    proxy.server.shutdown()
    proxy.server.server_close()
