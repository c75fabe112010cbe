"""The rules for redirect URLs, post-logout URLs and CORS origins (SPEC §3), table by table."""

import pytest

from appstore import urlrules
from appstore.services.apps import NATIVE_REDIRECT_PATTERN

OK = None

# (entry, scope, native, expected: None when accepted, else a phrase of the refusal)
REDIRECT_CASES = [
    # exact https URLs
    ("https://app.example.com/callback", "all", False, OK),
    ("https://app.example.com:8443/cb?x=1", "online", False, OK),
    ("HTTPS://App.Example.com/cb", "stage", False, OK),
    ("https://bücher.example/cb", "all", False, OK),
    ("https://[2001:db8::1]/cb", "all", False, OK),
    # plain http: loopback in sod, or for a native app
    ("http://localhost:5000/cb", "sod", False, OK),
    ("http://127.0.0.1:8080/cb", "sod", False, OK),
    ("http://localhost:5000/cb", "all", False, "not allowed for all environments"),
    ("http://localhost:5000/cb", "stage", False, "not allowed in stage"),
    ("http://127.0.0.1/cb", "online", False, "not allowed in online"),
    ("http://127.0.0.1:51234/cb", "online", True, OK),
    ("http://app.example.com/cb", "sod", False, "Plain http:// is accepted only for localhost"),
    ("http://app.example.com/cb", "sod", True, "Plain http:// is accepted only for localhost"),
    # other schemes
    ("javascript:alert(1)", "all", False, "javascript: scheme is not allowed"),
    ("JavaScript:alert(document.cookie)", "sod", False, "javascript: scheme is not allowed"),
    ("data:text/html;base64,PHNjcmlwdD4=", "all", False, "data: scheme is not allowed"),
    ("file:///etc/passwd", "sod", False, "file: scheme is not allowed"),
    ("ftp://files.example.com/", "all", False, "ftp: scheme is not allowed"),
    ("myapp://callback", "all", True, "myapp: scheme is not allowed"),
    # malformed
    ("app.example.com/callback", "all", False, "absolute URL"),
    ("//app.example.com/cb", "all", False, "absolute URL"),
    ("https:app.example.com", "all", False, "absolute URL"),
    ("https:///cb", "all", False, "no host"),
    ("https://exa mple.com/cb", "all", False, "spaces"),
    ("https://app.example.com/a\tb", "all", False, "spaces"),
    ("https://app.example.com:99999/cb", "all", False, "port"),
    ("https://bad_host!.example.com/", "all", False, "host name is not valid"),
    ("https://app.example.com/" + "a" * 2000, "all", False, "at most 2000 characters"),
    # credentials and fragments
    ("https://user:secret@app.example.com/cb", "all", False, "user name or password"),
    ("https://evil.example@app.example.com/cb", "all", False, "user name or password"),
    ("https://app.example.com/cb#token", "all", False, "fragment"),
    ("https://app.example.com/cb#", "all", False, "fragment"),
    # patterns
    (r"^https://([a-z0-9-]+\.)?example\.com/callback$", "all", False, OK),
    (r"^https://app\.example\.com/cb/\d+$", "online", False, OK),
    (NATIVE_REDIRECT_PATTERN, "all", True, OK),
    (NATIVE_REDIRECT_PATTERN, "sod", False, OK),
    (NATIVE_REDIRECT_PATTERN, "online", False, "not allowed in online"),
    (r"^http://localhost:\d+/cb$", "sod", False, OK),
    (r"^http://localhost\.evil\.com/cb$", "sod", False, "not allowed in sod"),
    (r"^http://app\.example\.com/cb$", "sod", False, "not allowed in sod"),
    (r"^https://app\.example\.com/cb", "all", False, "must end with $"),
    (r"^https://app\.example\.com/cb\$", "all", False, "must end with $"),
    (r"https://app\.example\.com/cb$", "all", False, "start it with ^"),
    (r"^https://app\.example\.com/(cb$", "all", False, "Not a valid regular expression"),
    (r"^https://[a-z+\.example\.com/$", "all", False, "Not a valid regular expression"),
    ("^https://app" + r"\.x" * 250 + "$", "all", False, "at most 500 characters"),
    (r"^.*$", "all", False, "must start with ^https://"),
    (r"^javascript:.*$", "all", False, "must start with ^https://"),
    (r"^(https|javascript)://.*$", "all", False, "must start with ^https://"),
    (r"^https://app\.example\.com/$|^javascript:.*$", "all", False, "may not use | outside parentheses"),
    (r"^https://(a|b)\.example\.com/$", "all", False, OK),
    (r"^https://[|]\.example\.com/$", "all", False, OK),
    (r"^https://app\.example\.com/ cb$", "all", False, "spaces"),
    # repetition inside repetition can take exponential time on a long URL
    (r"^https://(a+)+\.example\.com/$", "all", False, "repeats"),
    (r"^https://([a-z]+\.)*example\.com/$", "all", False, "repeats"),
    (r"^https://(?:x(?:ab)*)+\.example\.com/$", "all", False, "repeats"),
    (r"^https://[a-z0-9.-]*\.example\.com/cb$", "all", False, OK),
    (r"^https://(?:eu|us){1,2}\.example\.com/cb$", "all", False, OK),
]


@pytest.mark.parametrize(("entry", "scope", "native", "expected"), REDIRECT_CASES)
def test_redirect_entries(entry, scope, native, expected):
    problem = urlrules.check_entry(entry, kind=urlrules.REDIRECT, scope=scope, native=native)
    if expected is OK:
        assert problem is None
    else:
        assert problem is not None and expected in problem


CORS_CASES = [
    ("https://app.example.com", "all", OK),
    ("https://app.example.com:8443", "online", OK),
    ("http://localhost:3000", "sod", OK),
    ("http://localhost:3000", "stage", "not allowed in stage"),
    ("https://app.example.com/", "all", "no path"),
    ("https://app.example.com/spa", "all", "no path"),
    ("https://app.example.com?x=1", "all", "no path, query"),
    ("https://app.example.com#x", "all", "fragment"),
    ("https://user@app.example.com", "all", "user name or password"),
    ("null", "all", "absolute URL"),
    (r"^https://[a-z]+\.example\.com$", "all", OK),
]


@pytest.mark.parametrize(("entry", "scope", "expected"), CORS_CASES)
def test_cors_origins(entry, scope, expected):
    problem = urlrules.check_entry(entry, kind=urlrules.CORS, scope=scope)
    if expected is OK:
        assert problem is None
    else:
        assert problem is not None and expected in problem


def test_post_logout_urls_may_have_a_path():
    assert urlrules.check_entry("https://app.example.com/signed-out", kind=urlrules.POST_LOGOUT) is None
    assert "fragment" in urlrules.check_entry("https://app.example.com/out#x", kind=urlrules.POST_LOGOUT)


MATCH_CASES = [
    ("https://app.example.com/cb", "https://app.example.com/cb", True),
    ("https://app.example.com/cb", "https://app.example.com/cb/", False),
    ("https://app.example.com/cb", "https://APP.example.com/cb", False),
    ("https://app.example.com/cb", "https://app.example.com/cb?x=1", False),
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://eu.example.com/cb", True),
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://example.com/cb", True),
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://eu.example.com/cb/extra", False),
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://evil.com/?https://eu.example.com/cb", False),
    (NATIVE_REDIRECT_PATTERN, "http://127.0.0.1:51234", True),
    (NATIVE_REDIRECT_PATTERN, "http://127.0.0.1:80", False),
    (NATIVE_REDIRECT_PATTERN, "http://127.0.0.1:51234/cb", False),
    # a pattern never admits credentials, fragments, whitespace or another scheme
    (r"^https://.*$", "https://user:pw@evil.example/", False),
    (r"^https://.*$", "https://app.example.com/cb#frag", False),
    (r"^https://.*$", "https://app.example.com/c b", False),
    (r"^https://app\.example\.com/$|^javascript:.*$", "javascript:alert(1)", False),
    (r"^http://.*$", "http://evil.example/", False),
    (r"^https://app\.example\.com/(cb$", "https://app.example.com/(cb", False),
    (r"^https://(a+)+$", "https://aaaa", False),  # a stored pattern the rules now refuse
    ("https://app.example.com/cb", "", False),
]


@pytest.mark.parametrize(("entry", "url", "expected"), MATCH_CASES)
def test_matches(entry, url, expected):
    assert urlrules.matches(entry, url) is expected


def test_check_entries_names_the_line_and_the_entry():
    errors = urlrules.check_entries(["https://ok.example.com/cb", "javascript:alert(1)",
                                     "https://ok.example.com/a#b"])
    assert len(errors) == 2
    assert errors[0].startswith("Line 2 (javascript:alert(1)): ")
    assert errors[1].startswith("Line 3 (https://ok.example.com/a#b): ")


def test_sod_only_entries():
    assert urlrules.sod_only("http://localhost:5000/cb")
    assert not urlrules.sod_only("https://app.example.com/cb")
    assert not urlrules.sod_only("javascript:alert(1)")
    assert not urlrules.sod_only("http://127.0.0.1:5000/cb", native=True)


@pytest.mark.parametrize(("url", "environment", "expected"), [
    ("https://erp.example.com/connector", "online", OK),
    ("http://localhost:8000/erp", "sod", OK),
    ("http://localhost:8000/erp", "online", "not allowed in online"),
    ("http://erp.example.com/connector", "sod", "Use https://"),
    ("ftp://erp.example.com/", "stage", "ftp: scheme"),
    ("https://user:pw@erp.example.com/", "stage", "user name or password"),
])
def test_endpoint_urls(url, environment, expected):
    problem = urlrules.check_endpoint_url(url, environment=environment)
    if expected is OK:
        assert problem is None
    else:
        assert problem is not None and expected in problem
