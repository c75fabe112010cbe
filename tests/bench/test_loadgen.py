"""The benchmark's load generator for single-use request bodies, against a small local server."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.loadgen import Request, drive, form_post


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    wbufsize = -1  # one write per answer (flushed after each request), not Nagle's 40 ms per request

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.bodies[body] += 1
            self.server.headers.append(dict(self.headers))
        status = 400 if b"refuse" in body else 200
        answer = b'{"echo": "' + body + b'"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.bodies, httpd.headers, httpd.lock = Counter(), [], threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def base(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_every_body_is_sent_exactly_once(server):
    requests = [form_post("/token", {"code": f"c{n}"}, {"Authorization": "Basic eDp5"}) for n in range(60)]
    answers = []
    result = drive(base(server), requests, seconds=None, connections=4,
                   on_response=lambda request, status, body: answers.append((request.body, status, body)))
    assert set(server.bodies) == {f"code=c{n}".encode() for n in range(60)}
    assert set(server.bodies.values()) == {1}
    assert result.requests == 60 and result.errors == 0 and result.statuses == ((200, 60),)
    assert result.status == 200 and not result.exhausted and result.p95_ms >= result.p50_ms > 0
    assert all(h["Content-Type"] == "application/x-www-form-urlencoded" and h["Authorization"] == "Basic eDp5"
               for h in server.headers)
    assert sorted(body for body, _, _ in answers) == sorted(r.body for r in requests)
    assert all(answer == b'{"echo": "' + body + b'"}' for body, _, answer in answers)


def test_a_status_other_than_200_is_an_error(server):
    requests = [form_post("/token", {"code": "ok"}), form_post("/token", {"code": "refuse"}),
                Request("POST", "/token", b"refuse-too")]
    result = drive(base(server), requests, seconds=None, connections=2)
    assert result.requests == 3 and result.errors == 2
    assert dict(result.statuses) == {200: 1, 400: 2} and result.status == 400


def test_running_out_before_the_time_is_up_is_reported(server):
    requests = (form_post("/token", {"code": f"c{n}"}) for n in range(5))
    result = drive(base(server), requests, seconds=60, connections=3)
    assert result.requests == 5 and result.exhausted
