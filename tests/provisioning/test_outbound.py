"""The outbound HTTP client against a real HTTP server on 127.0.0.1."""

import logging
import socket

import pytest

from provisioning import outbound
from tests.http_receiver import HANG


def test_posts_json_and_returns_the_answer(receiver):
    receiver.reply((201, b'{"seen": 1}', {"Content-Type": "application/json"}))

    result = outbound.post_json(f"{receiver.url}/hook?x=1", {"ChangeType": 2}, purpose="test")

    assert result.ok and result.status_code == 201 and result.body == b'{"seen": 1}' and not result.error
    [request] = receiver.requests
    assert (request.method, request.path, request.json()) == ("POST", "/hook?x=1", {"ChangeType": 2})
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("CRM-App-Platform")


def test_an_error_status_is_an_answer_that_is_not_ok(receiver):
    receiver.reply((503, b"busy"))
    result = outbound.post_json(f"{receiver.url}/hook", {})
    assert result.status_code == 503 and not result.ok and result.error == ""


def test_redirects_are_not_followed(receiver):
    receiver.reply((302, b"", {"Location": f"{receiver.url}/elsewhere"}))

    result = outbound.post_json(f"{receiver.url}/hook", {})

    assert result.status_code == 302 and not result.ok
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_the_answer_is_read_up_to_the_cap(receiver, settings):
    settings.OUTBOUND_MAX_RESPONSE_BYTES = 1000
    receiver.reply((200, b"x" * 50_000))

    result = outbound.post_json(f"{receiver.url}/hook", {})

    assert result.ok and len(result.body) == 1000 and result.truncated


def test_a_stalled_answer_times_out(receiver, settings):
    settings.OUTBOUND_READ_TIMEOUT = 0.2
    receiver.reply(HANG)

    result = outbound.post_json(f"{receiver.url}/hook", {})

    assert result.status_code is None and not result.ok
    assert result.error == "No answer within 0.2 seconds."


@pytest.mark.parametrize("url", ["ftp://partner.example.com/hook", "file:///etc/passwd",
                                 "gopher://partner.example.com/", "//partner.example.com/x", "http:///nohost"])
def test_only_http_and_https_urls_are_called(url, receiver):
    result = outbound.post_json(url, {})
    assert result.status_code is None and result.error
    assert receiver.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "169.254.169.254", "[::1]",
                                  "192.168.0.10", "2130706433"])
def test_private_addresses_are_refused_when_not_allowed(host, settings, receiver):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    result = outbound.post_json(f"http://{host}:{receiver.server.server_port}/hook", {})
    assert result.status_code is None and "does not call" in result.error
    assert receiver.requests == []


def test_a_public_name_that_resolves_to_a_private_address_is_refused_on_connect(settings, receiver,
                                                                                 monkeypatch):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        # The name looks public; its DNS answer points inside (a rebinding attack).
        return real("127.0.0.1" if host == "partner.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    result = outbound.post_json(f"http://partner.example.com:{receiver.server.server_port}/hook", {})

    assert result.status_code is None
    assert "partner.example.com resolves to a loopback address (127.0.0.1)" in result.error
    assert receiver.requests == []


def test_private_addresses_are_called_when_allowed(settings, receiver):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    assert outbound.post_json(f"{receiver.url}/hook", {}).ok


def test_each_call_logs_one_line_without_body_query_or_headers(receiver, caplog):
    caplog.set_level(logging.INFO, logger="provisioning.outbound")

    outbound.post_json(f"http://user:pw@127.0.0.1:{receiver.server.server_port}/hook?token=abc",
                       {"Token": "eyJ.secret.jwt"}, headers={"Authorization": "Bearer s3cret"},
                       purpose="state_change")

    [line] = [r for r in caplog.records if r.name == "provisioning.outbound"]
    assert line.outbound["purpose"] == "state_change" and line.outbound["status"] == 200
    assert line.outbound["url"] == f"http://127.0.0.1:{receiver.server.server_port}/hook"
    assert isinstance(line.outbound["duration_ms"], int)
    text = line.getMessage() + repr(line.outbound)
    for secret in ("eyJ.secret.jwt", "s3cret", "token=abc", "pw@"):
        assert secret not in text


# ---------------------------------------------------------------- plain errors for partners

LIBRARY_WORDS = ("ConnectionPool", "Max retries", "Caused by", "Errno", "_ssl.c", "NewConnectionError",
                 "NameResolutionError")


def plain(text: str) -> bool:
    return not any(word in text for word in LIBRARY_WORDS)


def test_an_unresolvable_host_name_is_said_plainly_and_the_detail_is_only_logged(caplog):
    caplog.set_level(logging.INFO, logger="provisioning.outbound")
    result = outbound.post_json("https://erp.acme.invalid/hook", {})
    assert result.error == "The host name erp.acme.invalid could not be resolved." == result.problem
    [line] = [r for r in caplog.records if r.name == "provisioning.outbound"]
    assert line.outbound["error"] == result.error
    assert "NameResolutionError" in line.outbound["detail"] and "NameResolutionError" in line.getMessage()


def test_a_refused_connection_is_an_error_naming_host_and_port():
    # A port bound but not listening refuses every connection, and stays ours while the test runs.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        result = outbound.post_json(f"http://127.0.0.1:{port}/hook", {})
    assert result.status_code is None and result.error == f"Connection refused by 127.0.0.1:{port}."
    assert plain(result.error)


def test_tls_to_a_server_that_does_not_speak_it_fails_the_handshake_plainly(receiver):
    result = outbound.post_json(f"https://127.0.0.1:{receiver.server.server_port}/hook", {})
    assert result.status_code is None
    prefix = "TLS handshake failed: "
    assert result.error.startswith(prefix) and len(result.error) > len(prefix)
    assert plain(result.error)


def test_a_redirect_is_named_with_its_target_without_query(receiver):
    receiver.reply((302, b"", {"Location": "/elsewhere?token=abc"}))
    result = outbound.post_json(f"{receiver.url}/hook", {})
    assert result.error == "" and not result.ok
    assert result.problem == f"Redirects are not followed (answered 302 to {receiver.url}/elsewhere)."


def test_an_answer_over_the_cap_is_named(receiver, settings):
    settings.OUTBOUND_MAX_RESPONSE_BYTES = 64 * 1024
    receiver.reply((200, b"x" * 70_000))
    result = outbound.post_json(f"{receiver.url}/hook", {})
    assert result.ok and result.problem == "The answer was larger than 64 KiB."


def test_an_error_status_and_a_full_answer(receiver):
    receiver.reply((503, b"busy"), (200, b"ok"))
    assert outbound.post_json(f"{receiver.url}/hook", {}).problem == "HTTP 503"
    assert outbound.post_json(f"{receiver.url}/hook", {}).problem == ""

