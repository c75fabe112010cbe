"""Rules for the URLs an app registers: redirect URLs, post-logout redirect URLs, CORS origins,
and the integration endpoint URLs the platform calls (SPEC §3, decided).

An entry is an exact absolute URL, or a regular expression when it starts with ``^``. A
pattern must end with ``$``, compile with Python's ``re``, stay under 500 characters and
start with an explicit scheme (``^https://``, or ``^http://`` plus a loopback host where
plain http is allowed), so no pattern can admit ``javascript:`` or another scheme.

Plain ``http://`` is accepted only for ``localhost`` and ``127.0.0.1``, and only in the
``sod`` list or for native apps (whose redirect is a local port, for example the template
default ``^http://127.0.0.1\\:\\d{4,10}$``). Every check returns a message that says why,
or None when the entry is fine; the portal forms, the services and the login service use
the same functions.
"""

import functools
import ipaddress
import re
from urllib.parse import urlsplit

try:  # the parser behind re.compile; used only to spot nested repetition
    from re import _parser as _re_parser
except ImportError:  # pragma: no cover - Python versions before 3.11
    _re_parser = None

MAX_URL_LENGTH = 2000
MAX_PATTERN_LENGTH = 500
LOCAL_HOSTS = ("localhost", "127.0.0.1")

REDIRECT = "redirect"
POST_LOGOUT = "post_logout"
CORS = "cors"
KINDS = (REDIRECT, POST_LOGOUT, CORS)

# Scopes of an entry ("all" or an environment code); only sod admits plain http to loopback.
HTTP_LOCAL_SCOPES = ("sod",)

_WHITESPACE = re.compile(r"\s")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_LABELS = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$")
# What a pattern may begin with: the scheme spelled out, and for http a loopback host.
_PATTERN_HTTPS = "^https://"
_PATTERN_HTTP_LOCAL = re.compile(r"^\^http://(?:localhost|127(?:\\?\.)0(?:\\?\.)0(?:\\?\.)1)(?:[:/$]|\\:|\\/|$)")


def is_pattern(entry: str) -> bool:
    return entry.startswith("^")


def http_allowed(*, scope: str, native: bool) -> bool:
    """Plain http to localhost / 127.0.0.1: in the sod list, and for native apps anywhere."""
    return native or scope in HTTP_LOCAL_SCOPES


def _http_refusal(*, scope: str) -> str:
    where = "for all environments" if scope == "all" else f"in {scope}"
    return (f"http:// is not allowed {where}: use https://. Plain http:// is accepted only for "
            "localhost and 127.0.0.1, in the sod list or for native apps.")


def _ends_with_anchor(pattern: str) -> bool:
    """True when the pattern ends with an unescaped ``$``."""
    if not pattern.endswith("$"):
        return False
    backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def _top_level_alternation(pattern: str) -> bool:
    """True when a | sits outside every group, so part of the pattern escapes the ^https:// prefix."""
    depth, in_class, escaped = 0, False, False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or pattern[position - 1] == "["
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "|" and depth == 0:
            return True
    return False


def _repeats(node) -> bool:
    """True when a parsed item is a repetition that may match more than once."""
    op, av = node
    return str(op) in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[1] != 1


def _children(value):
    """The parsed sub-patterns held anywhere inside one item's argument."""
    if _re_parser is not None and isinstance(value, _re_parser.SubPattern):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _children(item)


def _nested_repetition(items, inside: bool = False) -> bool:
    for node in items:
        repeats = _repeats(node)
        if repeats and inside:
            return True
        if any(_nested_repetition(child, inside or repeats) for child in _children(node[1])):
            return True
    return False


def _is_slow(pattern: str) -> bool:
    """Repetition inside repetition, e.g. ^https://(a+)+$, can take exponential time on a long URL."""
    if _re_parser is None:
        return False
    try:
        return _nested_repetition(_re_parser.parse(pattern))
    except re.error:
        return False


def check_pattern_syntax(pattern: str) -> str | None:
    """Anchors, length and compiling; the part of the rules that does not depend on scope."""
    if not pattern.startswith("^"):
        return "A regular expression must start with ^ (an entry without it is an exact URL)."
    if len(pattern) > MAX_PATTERN_LENGTH:
        return (f"A regular expression may have at most {MAX_PATTERN_LENGTH} characters; "
                f"this one has {len(pattern)}.")
    if _WHITESPACE.search(pattern) or _CONTROL.search(pattern):
        return "A regular expression may not contain spaces or control characters."
    if not _ends_with_anchor(pattern):
        return "A regular expression must end with $ so that it matches the whole URL."
    if _top_level_alternation(pattern):
        return ("A regular expression may not use | outside parentheses: put the alternatives in a "
                "group, for example ^https://(a|b)\\.example\\.com/$.")
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"Not a valid regular expression: {exc}."
    if _is_slow(pattern):
        return ("A regular expression may not repeat a group that itself repeats (such as (a+)+ or "
                "([a-z]+\\.)*): matching it can take very long. Use ([a-z0-9-]+\\.)? or a character "
                "class such as [a-z0-9.-]* instead.")
    return None


def check_pattern(pattern: str, *, scope: str = "all", native: bool = False) -> str | None:
    problem = check_pattern_syntax(pattern)
    if problem:
        return problem
    if pattern.startswith(_PATTERN_HTTPS):
        return None
    if _PATTERN_HTTP_LOCAL.match(pattern):
        return None if http_allowed(scope=scope, native=native) else _http_refusal(scope=scope)
    if pattern.startswith("^http://"):
        return _http_refusal(scope=scope)
    return ("A regular expression must start with ^https:// (or ^http://localhost or "
            "^http://127.0.0.1 where plain http is allowed), so it cannot admit another scheme.")


def _check_host(parts) -> str | None:
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "The port is not a number between 0 and 65535."
    if not host:
        return "The URL has no host name."
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "The host is not a valid IPv6 address."
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return "The host name is not valid."
    if not _HOST_LABELS.match(ascii_host):
        return "The host name is not valid."
    return None


def check_url(url: str, *, kind: str = REDIRECT, scope: str = "all", native: bool = False) -> str | None:
    """An exact URL (or CORS origin): None when acceptable, else why it is refused."""
    if kind not in KINDS:
        raise ValueError(f"Unknown URL kind {kind!r}")
    if len(url) > MAX_URL_LENGTH:
        return f"A URL may have at most {MAX_URL_LENGTH} characters; this one has {len(url)}."
    if _WHITESPACE.search(url) or _CONTROL.search(url):
        return "A URL may not contain spaces or control characters."
    if url.endswith("$") or "\\" in url:
        return ("This looks like a regular expression: start it with ^ (without it the line is an "
                "exact URL).")
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if not scheme:
        return "Enter an absolute URL that starts with https://."
    if scheme not in ("http", "https"):
        return f"The {scheme}: scheme is not allowed; use https://."
    if not url.lower().startswith(f"{scheme}://"):
        return f"Enter an absolute URL: {scheme}:// followed by the host name."
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return "A URL may not carry a user name or password (user:password@host)."
    if "#" in url:
        return "A URL may not have a fragment (#…)."
    problem = _check_host(parts)
    if problem:
        return problem
    if scheme == "http":
        if parts.hostname not in LOCAL_HOSTS:
            return "Use https://. Plain http:// is accepted only for localhost and 127.0.0.1."
        if not http_allowed(scope=scope, native=native):
            return _http_refusal(scope=scope)
    if kind == CORS:
        if parts.path or parts.query or url.endswith("?"):
            return ("A CORS origin is scheme://host[:port] only, with no path, query or trailing "
                    "slash (for example https://app.example.com).")
    return None


def check_entry(entry: str, *, kind: str = REDIRECT, scope: str = "all", native: bool = False) -> str | None:
    """One line of a URL list: a pattern when it starts with ^, else an exact URL."""
    if is_pattern(entry):
        return check_pattern(entry, scope=scope, native=native)
    return check_url(entry, kind=kind, scope=scope, native=native)


def check_entries(entries: list[str], *, kind: str = REDIRECT, scope: str = "all",
                  native: bool = False) -> list[str]:
    """Every refused line of a list, as "Line n (entry): why"; [] when all are fine."""
    errors = []
    for number, entry in enumerate(entries, start=1):
        problem = check_entry(entry, kind=kind, scope=scope, native=native)
        if problem:
            shown = entry if len(entry) <= 80 else entry[:79] + "…"
            errors.append(f"Line {number} ({shown}): {problem}")
    return errors


def sod_only(entry: str, *, kind: str = REDIRECT, native: bool = False) -> bool:
    """True for an entry accepted in the sod list but refused for all environments."""
    return (check_entry(entry, kind=kind, scope="all", native=native) is not None
            and check_entry(entry, kind=kind, scope="sod", native=native) is None)


def matches(entry: str, url: str) -> bool:
    """Does ``url`` satisfy a registered entry? Exact string equality, or re.fullmatch for a pattern.

    A pattern only ever matches a well-formed URL: nothing longer than the URL limit, with
    whitespace, a user:password@ part or a fragment, whatever the pattern says. A pattern
    the rules refuse (a stored entry from before a rule change) matches nothing.
    """
    if not isinstance(url, str) or not url:
        return False
    if not is_pattern(entry):
        return entry == url
    if not _usable_pattern(entry):
        return False
    if len(url) > MAX_URL_LENGTH or _WHITESPACE.search(url) or _CONTROL.search(url) or "#" in url:
        return False
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return False
    # The scheme the pattern was accepted with is required again, whatever the pattern's body.
    if entry.startswith(_PATTERN_HTTPS):
        if parts.scheme != "https":
            return False
    elif not (entry.startswith("^http://") and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        return False
    return re.fullmatch(entry, url) is not None


@functools.lru_cache(maxsize=1024)
def _usable_pattern(pattern: str) -> bool:
    """A stored pattern still passes the syntax rules (anchors, size, no nested repetition)."""
    return check_pattern_syntax(pattern) is None


def check_endpoint_url(url: str, *, environment: str) -> str | None:
    """An integration endpoint the platform calls: an absolute https URL (http to loopback in sod)."""
    return check_url(url, kind=REDIRECT, scope=environment)
