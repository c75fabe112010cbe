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
    (r"^https://app\.example\.com/[|]$", "all", False, OK),
    (r"^https://app\.example\.com/ cb$", "all", False, "spaces"),
    # repetition inside repetition can take exponential time on a long URL
    (r"^https://(a+)+\.example\.com/$", "all", False, "repeats"),
    (r"^https://([a-z]+\.)*example\.com/$", "all", False, "repeats"),
    (r"^https://(?:x(?:ab)*)+\.example\.com/$", "all", False, "repeats"),
    (r"^https://[a-z0-9.-]*\.example\.com/cb$", "all", False, OK),
    (r"^https://((eu|us)\.)?example\.com/cb$", "all", False, OK),
    # alternatives inside a repeated group, and neighbouring repeats that take the same characters
    (r"^https://(a|a)*$", "all", False, "contains |"),
    (r"^https://(a|aa)*b$", "all", False, "contains |"),
    (r"^https://app\.example\.com/(a|aa)*b$", "all", False, "contains |"),
    (r"^https://(?:eu|us){1,2}\.example\.com/cb$", "all", False, "contains |"),
    (r"^https://app\.example\.com/((x|y)z)+$", "all", False, "contains |"),
    (r"^https://app\.example\.com/a*a*$", "all", False, "can take the same characters"),
    (r"^https://app\.example\.com/.*.*$", "all", False, "can take the same characters"),
    (r"^https://app\.example\.com/\d+\d*x$", "all", False, "can take the same characters"),
    (r"^https://app\.example\.com/[a-z]*(x)?[a-z0-9]+$", "all", False, "can take the same characters"),
    (r"^https://app\.example\.com/[a-z]+[0-9]*$", "all", False, OK),
    (r"^https://app\.example\.com/cb\?state=.*&code=.*$", "all", False, OK),
    (r"^https://app\.example\.com/x{3000}$", "all", False, "at most 2000"),
    # the host is written out; only a leading subdomain part may vary
    (r"^https://.*$", "all", False, "Write the host name out"),
    (r"^https://.+/cb$", "all", False, "Write the host name out"),
    (r"^https://example.com/.*$", "all", False, r"Write ^https://example\.com/.*$"),
    (r"^https://app.example\.com/cb$", "all", False, "Escape each dot"),
    (r"^https://example\.com.*$", "all", False, "right after the written-out host name"),
    (r"^https://[a-z]+\.com/cb$", "all", False, "registrable domain out in full"),
    (r"^https://[^/]+\.example\.com/cb$", "all", False, "Only letters, digits"),
    (r"^https://.*\.example\.com/cb$", "all", False, "Only letters, digits"),
    (r"^https://(.+\.)?example\.com/cb$", "all", False, "Only letters, digits"),
    (r"^https://([a-z]+)?example\.com/cb$", "all", False, "must end with an escaped dot"),
    (r"^https://[a-z]+example\.com/cb$", "all", False, "must end with an escaped dot"),
    (r"^https://example\.com/.*$", "all", False, OK),
    (r"^https://example\.com(:\d+)?/cb$", "all", False, OK),
    (r"^https://example\.com:8443/cb$", "all", False, OK),
    (r"^https://(www\.)?example\.com$", "all", False, OK),
    (r"^https://localhost:\d+/cb$", "all", False, OK),
    # patterns that do not compile, whatever the reason, are refused with a message
    (r"^https://a{99999999999}$", "all", False, "at most 2000"),
    (r"^https://app\.example\.com/a{4294967295}$", "all", False, "at most 2000"),
    (r"^https://app\.example\.com/" + "(" * 200 + ")" * 200 + "$", "all", False, "nested at most"),
    (r"^https://app\.example\.com/(?<=a+)b$", "all", False, "Not a valid regular expression"),
    (r"^https://app\.example\.com/\p{L}$", "all", False, "Not a valid regular expression"),
    (r"^https://app\.example\.com/(?i)a$", "all", False, "Not a valid regular expression"),
    (r"^https://app\.example\.com/\N{NOSUCHNAME}$", "all", False, "Not a valid regular expression"),
    (r"^https://app\.example\.com/(?P=nope)$", "all", False, "Not a valid regular expression"),
    # invisible and control characters anywhere (U+202E shows the URL reversed)
    ("https://app.example.com/\u202ecb", "all", False, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("https://app.example.com/c\u200bb", "all", False, "U+200B ZERO WIDTH SPACE"),
    ("https://app.example.com/c\u2028b", "all", False, "U+2028"),
    ("https://app.example.com/c\u00a0b", "all", False, "U+00A0"),
    ("https://app.example.com/c\x85b", "all", False, "U+0085"),
    ("^https://app\\.example\\.com/\u202e$", "all", False, "U+202E"),
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
    ("https://93.184.215.14/erp", "online", OK),
    ("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/erp", "online", OK),
    ("http://localhost:8000/erp", "sod", "Use https://"),
    ("http://localhost:8000/erp", "online", "Use https://"),
    ("http://erp.example.com/connector", "sod", "Use https://"),
    ("ftp://erp.example.com/", "stage", "ftp: scheme"),
    ("https://user:pw@erp.example.com/", "stage", "user name or password"),
    ("^https://erp\\.example\\.com/$", "stage", "not a pattern"),
    # internal addresses, however they are written
    ("https://localhost/erp", "sod", "does not call localhost"),
    ("https://LOCALHOST./erp", "sod", "does not call localhost"),
    ("https://erp.localhost/x", "sod", "does not call localhost"),
    ("https://169.254.169.254/latest/meta-data/", "online", "link-local"),
    ("https://10.0.0.1/x", "online", "private network"),
    ("https://192.168.1.20/x", "stage", "private network"),
    ("https://172.16.0.1/x", "stage", "private network"),
    ("https://127.0.0.1/x", "online", "loopback"),
    ("https://2130706433/x", "online", "loopback"),
    ("https://0x7f000001/x", "online", "loopback"),
    ("https://127.1/x", "online", "loopback"),
    ("https://0177.0.0.1/x", "online", "loopback"),
    ("https://0/x", "online", "unspecified"),
    ("https://0.0.0.0/x", "online", "unspecified"),
    ("https://224.0.0.251/x", "online", "multicast"),
    ("https://240.0.0.1/x", "online", "The platform does not call"),
    ("https://100.64.0.1/x", "online", "not publicly reachable"),
    ("https://[::1]/x", "online", "loopback"),
    ("https://[::]/x", "online", "unspecified"),
    ("https://[fe80::1]/x", "online", "link-local"),
    ("https://[fd00::1]/x", "online", "private network"),
    ("https://[ff02::1]/x", "online", "multicast"),
    ("https://[::ffff:169.254.169.254]/x", "online", "link-local"),
    ("https://[2002:7f00:1::]/x", "online", "loopback"),
    ("https://[64:ff9b::a00:1]/x", "online", "private network"),
    ("https://1.2.3.999/x", "online", "not a valid IP address"),
    ("https://erp.example.123/x", "online", "not a valid IP address"),
])
def test_endpoint_urls(url, environment, expected):
    problem = urlrules.check_endpoint_url(url, environment=environment)
    if expected is OK:
        assert problem is None
    else:
        assert problem is not None and expected in problem


@pytest.mark.parametrize("url", ["http://localhost:8000/erp", "https://localhost/erp", "http://127.0.0.1:9000/",
                                 "http://10.0.0.1/x", "https://192.168.1.20/x", "http://[::1]:8000/"])
def test_private_endpoints_only_in_sod_and_only_when_the_setting_allows(settings, url):
    settings.ALLOW_PRIVATE_PARTNER_URLS = True
    assert urlrules.check_endpoint_url(url, environment="sod") is None
    for environment in ("stage", "online"):
        assert urlrules.check_endpoint_url(url, environment=environment) is not None
    assert "Use https://" in urlrules.check_endpoint_url("http://erp.example.com/", environment="sod")
    settings.ALLOW_PRIVATE_PARTNER_URLS = False
    assert urlrules.check_endpoint_url(url, environment="sod") is not None


# ---------------------------------------------------------------- a pattern that fails in any way

@pytest.mark.parametrize("error", [RecursionError, OverflowError, MemoryError, ValueError])
def test_any_compile_failure_is_a_message_not_an_exception(monkeypatch, error):
    pattern = r"^https://app\.example\.com/failing$"
    real_compile = urlrules.re.compile

    def failing(text, *args, **kwargs):
        if text == pattern:
            raise error("boom")
        return real_compile(text, *args, **kwargs)

    monkeypatch.setattr(urlrules.re, "compile", failing)
    problem = urlrules.check_entry(pattern)
    assert problem is not None and ("regular expression" in problem or "at most" in problem)


# ---------------------------------------------------------------- matching is bounded

def test_matching_a_slow_stored_pattern_is_cut_short(monkeypatch):
    # A pattern saved before the rules refused it: the time limit still answers "no match".
    slow = r"^https://app\.example\.com/(a|aa)*b$"
    assert "contains |" in urlrules.check_entry(slow)
    monkeypatch.setattr(urlrules, "_pattern_problem", lambda pattern: None)
    urlrules._usable_pattern.cache_clear()
    try:
        result = urlrules.explain_match(slow, "https://app.example.com/" + "a" * 1900 + "!")
        assert result.matches is False and "took too long" in result.reason
        assert urlrules.matches(slow, "https://app.example.com/aab") is True
    finally:
        urlrules._usable_pattern.cache_clear()


def test_no_pattern_runs_on_more_than_the_url_limit():
    url = "https://app.example.com/" + "a" * urlrules.MAX_URL_LENGTH
    result = urlrules.explain_match(r"^https://app\.example\.com/a*$", url)
    assert result.matches is False and "longer than 2000" in result.reason
    assert urlrules.matches(r"^https://app\.example\.com/a*$", url[:urlrules.MAX_URL_LENGTH]) is True


def test_stored_catch_all_patterns_match_nothing():
    assert urlrules.matches(r"^https://.*$", "https://evil.example/") is False
    assert urlrules.matches(r"^https://example.com/.*$", "https://exampleXcom/") is False
    assert urlrules.matches(r"^https://example\.com/.*$", "https://example.com/cb") is True


@pytest.mark.parametrize(("entry", "url", "reason"), [
    ("javascript:alert(1)", "javascript:alert(1)", "javascript: URL never does"),
    ("https://app.example.com/cb", "https://app.example.com/cb#x", "fragment"),
    (r"^https://app\.example\.com/.*$", "https://app.example.com/cb#x", "fragment"),
    (r"^https://app\.example\.com/.*$", "https://u:p@app.example.com/cb", "user name or password"),
    (r"^https://app\.example\.com/.*$", "app.example.com/cb", "not an absolute URL"),
    (r"^https://app\.example\.com/.*$", "https://app.example.com/\u202e", "invisible"),
    (r"^https://app\.example\.com/.*$", "http://app.example.com/cb", "only for localhost"),
    (r"^https://localhost/.*$", "http://localhost/cb", "does not use https://"),
    ("https://app.example.com/cb", "HTTPS://APP.example.com/cb", "upper and lower case"),
    (r"^https://(a|aa)*$", "https://aaa", "rules refuse this pattern"),
])
def test_a_no_says_why_when_the_url_can_never_match(entry, url, reason):
    result = urlrules.explain_match(entry, url)
    assert result.matches is False and reason in result.reason


def test_a_plain_no_has_no_reason():
    assert urlrules.explain_match("https://app.example.com/cb", "https://app.example.com/other") == \
        urlrules.MatchResult(False, "")


# ---------------------------------------------------------------- stored form and messages

@pytest.mark.parametrize(("entry", "stored"), [
    ("HTTPS://App.Example.COM/Call/Back?X=Y", "https://app.example.com/Call/Back?X=Y"),
    ("https://APP.example.com:8443/CB", "https://app.example.com:8443/CB"),
    ("https://app.example.com", "https://app.example.com"),
    (r"^https://App\.example\.com/CB$", r"^https://App\.example\.com/CB$"),
])
def test_exact_urls_are_stored_with_lower_case_scheme_and_host(entry, stored):
    assert urlrules.normalise_entry(entry) == stored


def test_messages_never_repeat_a_long_or_invisible_value():
    errors = urlrules.check_entries(["javascript:" + "x" * 100_000, "https://a.example.com/\u202e"])
    assert len(errors[0]) < 300 and errors[0].startswith("Line 1 (javascript:xxx")
    assert "\u202e" not in errors[1] and "\\u202e" in errors[1]
