"""Rules for the URLs an app registers: redirect URLs, post-logout redirect URLs, CORS origins,
and the integration endpoint URLs the platform calls (SPEC §3, decided).

An entry is an exact absolute URL, or a regular expression when it starts with ``^``. A
pattern must end with ``$``, compile, stay under 500 characters and start with an explicit
scheme (``^https://``, or ``^http://`` plus a loopback host where plain http is allowed), so
no pattern can admit ``javascript:`` or another scheme. The host of an https pattern is
written out (``^https://example\\.com/.*$``); only a leading subdomain part may vary.

Patterns that can take very long to match are refused: repetition inside repetition,
alternatives inside a repeated group and neighbouring repeats that can take the same
characters. Matching is bounded as well: never on more than 2000 characters, and with a
time limit (the ``regex`` package's timeout), so no stored pattern can hold a worker.

Plain ``http://`` is accepted only for ``localhost`` and ``127.0.0.1``, and only in the
``sod`` list or for native apps (whose redirect is a local port, for example the template
default ``^http://127.0.0.1\\:\\d{4,10}$``). Integration endpoints are https to a public host;
ALLOW_PRIVATE_PARTNER_URLS lets sod endpoints reach local addresses during development.
Every check returns a message that says why, or None when the entry is fine; the portal
forms, the services and the login service use the same functions.
"""

import functools
import ipaddress
import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

try:  # the parser behind re.compile; used to judge a pattern's structure
    from re import _compiler as _re_compiler
    from re import _parser as _re_parser
except ImportError:  # pragma: no cover - Python versions before 3.11
    _re_compiler = _re_parser = None

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2000
MAX_PATTERN_LENGTH = 500
# A repeat count above the longest URL can never be used; huge ones do not even compile.
MAX_REPEAT_COUNT = MAX_URL_LENGTH
MAX_GROUP_DEPTH = 10
# How long one pattern may take on one URL before it counts as no match.
MATCH_TIMEOUT_SECONDS = 0.05
# How much of a refused value a message repeats.
SHOWN_LENGTH = 80
LOCAL_HOSTS = ("localhost", "127.0.0.1")

REDIRECT = "redirect"
POST_LOGOUT = "post_logout"
CORS = "cors"
KINDS = (REDIRECT, POST_LOGOUT, CORS)

# Scopes of an entry ("all" or an environment code); only sod admits plain http to loopback.
HTTP_LOCAL_SCOPES = ("sod",)

# Control, invisible formatting (such as U+202E, right-to-left override) and separator characters.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs"})
_HOST_LABELS = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$")
# What a pattern may begin with: the scheme spelled out, and for http a loopback host.
_PATTERN_HTTPS = "^https://"
_PATTERN_HTTP_LOCAL = re.compile(r"^\^http://(?:localhost|127(?:\\?\.)0(?:\\?\.)0(?:\\?\.)1)(?:[:/$]|\\:|\\/|$)")
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")
_EXAMPLE_PATTERN = r"^https://example\.com/.*$"


# ---------------------------------------------------------------- small helpers

def is_pattern(entry: str) -> bool:
    return entry.startswith("^")


def shown(value: str, limit: int = SHOWN_LENGTH) -> str:
    """A refused value as a message may repeat it: short, with invisible characters spelled out."""
    value = value if len(value) <= limit else value[:limit - 1] + "…"
    return "".join(f"\\u{ord(ch):04x}" if ch != " " and _refused_char(ch) else ch for ch in value)


def _refused_char(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _REFUSED_CATEGORIES


def _first_refused_char(text: str) -> str | None:
    return next((ch for ch in text if _refused_char(ch)), None)


def _char_problem(text: str, what: str) -> str | None:
    ch = _first_refused_char(text)
    if ch is None:
        return None
    name = unicodedata.name(ch, "")
    found = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    return (f"{what} may not contain spaces, control characters or invisible formatting characters "
            f"(found {found}).")


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


# ---------------------------------------------------------------- the pattern's text

@dataclass
class _Layout:
    groups: list[tuple[int, int]]  # (index of "(", index of its ")")
    bars: list[tuple[int, int]]  # (index of "|", group depth there)
    depth: int  # deepest group nesting


def _layout(pattern: str) -> _Layout:
    """Groups and | of a pattern's text, skipping escapes and character classes."""
    stack: list[int] = []
    layout = _Layout(groups=[], bars=[], depth=0)
    position, size = 0, len(pattern)
    while position < size:
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position += 1
            if position < size and pattern[position] == "^":
                position += 1
            if position < size and pattern[position] == "]":  # a ] first in a class is literal
                position += 1
            while position < size and pattern[position] != "]":
                position += 2 if pattern[position] == "\\" else 1
        elif char == "(":
            stack.append(position)
            layout.depth = max(layout.depth, len(stack))
        elif char == ")" and stack:
            layout.groups.append((stack.pop(), position))
        elif char == "|":
            layout.bars.append((position, len(stack)))
        position += 1
    return layout


def _repeat_maximum(pattern: str, position: int) -> float:
    """How often the item just before ``position`` may repeat, from the quantifier there."""
    if position >= len(pattern):
        return 1
    char = pattern[position]
    if char in "*+":
        return float("inf")
    if char == "{":
        found = _QUANTIFIER.match(pattern, position)
        if found is None:
            return 1  # a literal {
        low, comma, high = found.groups()
        if not low and not comma:
            return 1
        if comma:
            return int(high) if high else float("inf")
        return int(low)
    return 1


def _alternation_repeated(pattern: str, layout: _Layout) -> bool:
    """A | inside a group that may repeat, such as (a|aa)*: many ways to match the same text."""
    for start, end in layout.groups:
        if _repeat_maximum(pattern, end + 1) > 1 and any(start < bar < end for bar, _ in layout.bars):
            return True
    return False


# ---------------------------------------------------------------- the parsed pattern

_REPEAT_OPS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_CHAR_OPS = ("LITERAL", "NOT_LITERAL", "IN", "ANY")
_ZERO_WIDTH_OPS = ("AT", "ASSERT", "ASSERT_NOT")
# The characters tried against one character item: ASCII, Latin letters and look-alike punctuation.
_SAMPLE = tuple(chr(code) for code in range(0x250)) + tuple(
    "\u2024\u2044\u2215\u3002\uff0e\uff0f\uff1a\uff1f\uff20\uff03\u00a0\u200b\u202e\u0430\u03b1")


def _op(node) -> str:
    return str(node[0])


def _parse(pattern: str):
    return _re_parser.parse(pattern)


def _flat(items):
    """The items of a sequence, with plain (not repeated) groups opened into it."""
    for node in items:
        op, av = node
        if str(op) == "SUBPATTERN":
            yield from _flat(av[-1])
        elif str(op) == "ATOMIC_GROUP":
            yield from _flat(av)
        else:
            yield node


def _children(value):
    """The parsed sub-patterns held anywhere inside one item's argument."""
    if isinstance(value, _re_parser.SubPattern):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _children(item)


def _walk(items):
    """Every item of a parsed pattern, at any depth."""
    for node in items:
        yield node
        for child in _children(node[1]):
            yield from _walk(child)


def _repeats(node) -> bool:
    """True when a parsed item is a repetition that may match more than once."""
    return _op(node) in _REPEAT_OPS and node[1][1] != 1


def _nested_repetition(items, inside: bool = False) -> bool:
    for node in items:
        repeats = _repeats(node)
        if repeats and inside:
            return True
        if any(_nested_repetition(child, inside or repeats) for child in _children(node[1])):
            return True
    return False


def _repeat_count_too_large(items) -> bool:
    maxrepeat = _re_parser.MAXREPEAT
    return any(_op(node) in _REPEAT_OPS
               and any(count != maxrepeat and count > MAX_REPEAT_COUNT for count in node[1][:2])
               for node in _walk(items))


_CHARS_CACHE: dict[tuple[str, int], frozenset | None] = {}


def _chars(node, flags: int) -> frozenset | None:
    """The sample characters one character item (literal, class, .) accepts; None when unknown."""
    key = (repr(node), flags)
    if key not in _CHARS_CACHE:
        try:
            state = _re_parser.State()
            state.flags = flags
            compiled = _re_compiler.compile(_re_parser.SubPattern(state, [node]), flags)
        except Exception:  # noqa: BLE001 - an item this cannot judge counts as "any character"
            chars = None
        else:
            chars = frozenset(ch for ch in _SAMPLE if compiled.fullmatch(ch))
        if len(_CHARS_CACHE) > 4096:
            _CHARS_CACHE.clear()
        _CHARS_CACHE[key] = chars
    return _CHARS_CACHE[key]


def _consumed(items, flags: int) -> frozenset | None:
    """Every sample character a piece of pattern can consume; None when it cannot tell."""
    found: set[str] = set()
    for node in items:
        op, av = _op(node), node[1]
        if op in _CHAR_OPS:
            chars = _chars(node, flags)
        elif op in _ZERO_WIDTH_OPS:
            continue
        elif op in ("SUBPATTERN", "ATOMIC_GROUP", "BRANCH") or op in _REPEAT_OPS:
            chars = set()
            for child in _children(av):
                part = _consumed(child, flags)
                if part is None:
                    return None
                chars |= part
        else:  # back-references and the like
            return None
        if chars is None:
            return None
        found |= chars
    return frozenset(found)


def _variable(node) -> bool:
    """A repeat that may match a different number of times, more than once."""
    if _op(node) not in _REPEAT_OPS:
        return False
    low, high = node[1][0], node[1][1]
    return high != low and high != 1


def _holds_variable(items) -> bool:
    return any(_variable(node) for node in _walk(items))


def _ambiguous_neighbours(items, flags: int) -> bool:
    """Two repeats with nothing required between them that can take the same characters
    (a*a*, \\d+\\d*, .*.*): the split between them can be tried in very many ways."""
    pending: list[frozenset | None] = []
    for node in _flat(items):
        op, av = _op(node), node[1]
        if op == "AT":
            continue
        if op in ("ASSERT", "ASSERT_NOT"):
            if _ambiguous_neighbours(av[1], flags):
                return True
            continue
        if op == "BRANCH":
            if any(_ambiguous_neighbours(alternative, flags) for alternative in av[1]):
                return True
            pending = []
            continue
        if op in _REPEAT_OPS:
            low, high, body = av
            if _ambiguous_neighbours(body, flags):
                return True
            if high == 1 and not _holds_variable(body):
                continue  # an optional fixed piece, such as (www\.)?
            if high == low:
                pending = []
                continue
            chars = _consumed(body, flags)
            if any(chars is None or other is None or chars & other for other in pending):
                return True
            pending = [*pending, chars] if low == 0 else [chars]
            continue
        pending = []
    return False


# ---------------------------------------------------------------- the host of an https pattern

_HOST_END = "/:?#"


def _is_host_char(ch: str) -> bool:
    return ch in "-._" or (ch.isalnum() and (ch.isascii() or not unicodedata.category(ch).startswith("P")))


def _literal(node) -> str | None:
    return chr(node[1]) if _op(node) == "LITERAL" else None


def _first_literal(node) -> str | None:
    """The literal a group or optional piece starts with, such as the : of (:\\d+)?."""
    op, av = _op(node), node[1]
    if op == "LITERAL":
        return chr(av)
    if op in _REPEAT_OPS:
        body = av[2]
    elif op == "SUBPATTERN":
        body = av[-1]
    else:
        return None
    return _first_literal(body[0]) if len(body) else None


def _ends_with_dot(node) -> bool:
    op, av = _op(node), node[1]
    if op == "LITERAL":
        return chr(av) == "."
    if op in _REPEAT_OPS:
        body = av[2]
    elif op == "SUBPATTERN":
        body = av[-1]
    elif op == "BRANCH":
        return all(len(alt) and _ends_with_dot(alt[-1]) for alt in av[1])
    else:
        return False
    return bool(len(body)) and _ends_with_dot(body[-1])


def _escaped_host_example(pattern: str) -> str:
    """The pattern with the dots of its host escaped, when its host is plain text."""
    found = re.match(r"\^https://([A-Za-z0-9.\\-]+)(.*)$", pattern)
    if not found:
        return _EXAMPLE_PATTERN
    host = re.sub(r"(?<!\\)\.", r"\\.", found.group(1))
    example = f"^https://{host}{found.group(2)}"
    return example if len(example) <= SHOWN_LENGTH else _EXAMPLE_PATTERN


def _host_problem(pattern: str) -> str | None:
    """The host of an https pattern is written out: dots escaped, no .* or classes in the
    registrable domain. Only a leading subdomain part, such as ([a-z0-9-]+\\.)?, may vary."""
    items = list(_flat(_parse(pattern)))
    position = 1 if items and _op(items[0]) == "AT" else 0
    for char in "https://":
        if position >= len(items) or _literal(items[position]) != char:
            return "Write the scheme as plain text at the start: ^https://."
        position += 1
    end = position
    while end < len(items):
        node = items[end]
        if _op(node) == "AT" or (_first_literal(node) or "") in tuple(_HOST_END):
            break
        end += 1
    host = items[position:end]
    tail_start = len(host)
    while tail_start and (ch := _literal(host[tail_start - 1])) is not None and _is_host_char(ch):
        tail_start -= 1
    prefix, tail = host[:tail_start], "".join(_literal(node) for node in host[tail_start:])
    if any(_op(node) == "ANY" for node in prefix):
        return ("Escape each dot in the host name as \\.: a bare . matches any character, so the "
                f"pattern would admit other hosts. Write {_escaped_host_example(pattern)}")
    if not tail and any(_literal(node) for node in host):
        return ("Put /, : (a port) or $ right after the written-out host name: as it stands the "
                "pattern would also admit longer host names, such as https://example.com.evil.example/.")
    if not tail:
        return ("Write the host name out after ^https://, each dot escaped as \\., for example "
                f"{_EXAMPLE_PATTERN} — a pattern must not admit any host.")
    if prefix:
        chars = _consumed(prefix, 0)
        if chars is None or not all(_is_host_char(ch) for ch in chars):
            return ("Only letters, digits, - and escaped dots may vary in the host name, and only in "
                    r"a leading subdomain part, for example ^https://([a-z0-9-]+\.)?example\.com/.*$.")
        if not (tail.startswith(".") or _ends_with_dot(prefix[-1])):
            return ("A varying subdomain part must end with an escaped dot before the written-out domain, "
                    r"for example ^https://([a-z0-9-]+\.)?example\.com/.*$.")
    domain = tail.lstrip(".").rstrip(".")
    if domain.lower() != "localhost" and (domain.count(".") < 1 or "" in domain.split(".")):
        return ("Write the registrable domain out in full, with escaped dots (such as example\\.com): "
                f"only a leading subdomain part may vary, for example {_EXAMPLE_PATTERN}")
    return None


# ---------------------------------------------------------------- patterns

def _compile_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"Not a valid regular expression: {shown(str(exc))}."
    except OverflowError:
        return f"A repeat count such as {{n}} may be at most {MAX_REPEAT_COUNT}."
    except RecursionError:
        return f"Groups may be nested at most {MAX_GROUP_DEPTH} deep."
    except (ValueError, MemoryError, IndexError, AssertionError, TypeError):
        return "Not a valid regular expression."
    return None


def _structure_problem(pattern: str, layout: _Layout) -> str | None:
    if _alternation_repeated(pattern, layout):
        return ("A regular expression may not repeat a group that contains | (such as (a|aa)* or "
                "(eu|us)+): matching it can take very long. Write the alternatives once, as in "
                "(eu|us)?, or use a character class such as [a-z]*.")
    if _re_parser is None:  # pragma: no cover
        return None
    parsed = _parse(pattern)
    if _repeat_count_too_large(parsed):
        return f"A repeat count such as {{n}} may be at most {MAX_REPEAT_COUNT}."
    if _nested_repetition(parsed):
        return ("A regular expression may not repeat a group that itself repeats (such as (a+)+ or "
                "([a-z]+\\.)*): matching it can take very long. Use ([a-z0-9-]+\\.)? or a character "
                "class such as [a-z0-9.-]* instead.")
    if _ambiguous_neighbours(parsed, parsed.state.flags):
        return ("Two repeats that can take the same characters may not follow each other (such as "
                "a*a* or .*.*): matching can take very long. Keep one, or put a required character "
                "between them.")
    return None


def check_pattern_syntax(pattern: str) -> str | None:
    """Anchors, length, compiling and speed; the part of the rules that does not depend on scope."""
    if not pattern.startswith("^"):
        return "A regular expression must start with ^ (an entry without it is an exact URL)."
    if len(pattern) > MAX_PATTERN_LENGTH:
        return (f"A regular expression may have at most {MAX_PATTERN_LENGTH} characters; "
                f"this one has {len(pattern):,}.")
    problem = _char_problem(pattern, "A regular expression")
    if problem:
        return problem
    if not _ends_with_anchor(pattern):
        return "A regular expression must end with $ so that it matches the whole URL."
    layout = _layout(pattern)
    if layout.depth > MAX_GROUP_DEPTH:
        return f"Groups may be nested at most {MAX_GROUP_DEPTH} deep."
    if any(depth == 0 for _, depth in layout.bars):
        return ("A regular expression may not use | outside parentheses: put the alternatives in a "
                "group, for example ^https://(a|b)\\.example\\.com/$.")
    problem = _compile_problem(pattern)
    if problem:
        return problem
    try:
        problem = _structure_problem(pattern, layout)
    except (RecursionError, re.error, OverflowError, ValueError, MemoryError):
        return "Not a valid regular expression."
    if problem:
        return problem
    try:
        _compiled(pattern)
    except (regex.error, OverflowError, RecursionError, ValueError, MemoryError) as exc:
        return f"Not a valid regular expression: {shown(str(exc))}."
    return None


def _pattern_problem(pattern: str) -> str | None:
    """Every rule of a pattern that does not depend on the list's scope."""
    problem = check_pattern_syntax(pattern)
    if problem is None and pattern.startswith(_PATTERN_HTTPS) and _re_parser is not None:
        try:
            problem = _host_problem(pattern)
        except (RecursionError, re.error, ValueError):
            problem = "Not a valid regular expression."
    return problem


def check_pattern(pattern: str, *, scope: str = "all", native: bool = False) -> str | None:
    problem = _pattern_problem(pattern)
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


# ---------------------------------------------------------------- exact URLs

def split_url(url: str):
    """urlsplit, or None for a URL it cannot take apart (a malformed [bracketed] host)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


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


def _check_absolute(url: str, what: str = "A URL"):
    """(problem, scheme, parts): the checks every absolute http(s) URL passes."""
    if len(url) > MAX_URL_LENGTH:
        return f"{what} may have at most {MAX_URL_LENGTH} characters; this one has {len(url):,}.", "", None
    problem = _char_problem(url, what)
    if problem:
        return problem, "", None
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if not scheme:
        return "Enter an absolute URL that starts with https://.", "", None
    if scheme not in ("http", "https"):
        return f"The {shown(scheme, 20)}: scheme is not allowed; use https://.", scheme, None
    if not url.lower().startswith(f"{scheme}://"):
        return f"Enter an absolute URL: {scheme}:// followed by the host name.", scheme, None
    parts = split_url(url)
    if parts is None:
        return "The host is not valid (check the [brackets] of an IPv6 address).", scheme, None
    if "@" in parts.netloc:
        return "A URL may not carry a user name or password (user:password@host).", scheme, parts
    if "#" in url:
        return "A URL may not have a fragment (#…).", scheme, parts
    return _check_host(parts), scheme, parts


def check_url(url: str, *, kind: str = REDIRECT, scope: str = "all", native: bool = False) -> str | None:
    """An exact URL (or CORS origin): None when acceptable, else why it is refused."""
    if kind not in KINDS:
        raise ValueError(f"Unknown URL kind {kind!r}")
    if len(url) <= MAX_URL_LENGTH and (url.endswith("$") or "\\" in url) and _first_refused_char(url) is None:
        return ("This looks like a regular expression: start it with ^ (without it the line is an "
                "exact URL).")
    problem, scheme, parts = _check_absolute(url)
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


def normalise_entry(entry: str) -> str:
    """An exact URL with its scheme and host in lower case (what clients send); the path is kept.
    Patterns and refused entries are returned as they are."""
    if is_pattern(entry):
        return entry
    found = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)", entry)
    if not found:
        return entry
    return f"{found.group(1).lower()}://{found.group(2).lower()}{entry[found.end():]}"


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
            errors.append(f"Line {number} ({shown(entry)}): {problem}")
    return errors


def sod_only(entry: str, *, kind: str = REDIRECT, native: bool = False) -> bool:
    """True for an entry accepted in the sod list but refused for all environments."""
    return (check_entry(entry, kind=kind, scope="all", native=native) is not None
            and check_entry(entry, kind=kind, scope="sod", native=native) is None)


# ---------------------------------------------------------------- matching

@dataclass(frozen=True)
class MatchResult:
    matches: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.matches


def _never_matches(url: str) -> str | None:
    """Why a URL can match no entry at all, whatever the entry says; None when it may."""
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters, so no entry matches it."
    if _first_refused_char(url) is not None:
        return "The URL contains spaces, control or invisible characters, so no entry matches it."
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme not in ("http", "https"):
        return ("Only https:// URLs (and http:// to localhost or 127.0.0.1) can match; "
                + (f"a {shown(scheme, 20)}: URL never does." if scheme else "this is not an absolute URL."))
    if not url.lower().startswith(f"{scheme}://"):
        return "The URL is not absolute: it needs // and a host name after the scheme."
    parts = split_url(url)
    if parts is None:
        return "The URL's host is not valid, so it never matches."
    if "@" in parts.netloc:
        return "The URL carries a user name or password (user:password@host); such a URL never matches."
    if "#" in url:
        return "The URL has a fragment (#…); redirect URLs with a fragment never match."
    if _check_host(parts):
        return "The URL's host or port is not valid, so it never matches."
    if scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return "Plain http:// URLs match only for localhost and 127.0.0.1."
    return None


def explain_match(entry: str, url: str) -> MatchResult:
    """Does ``url`` satisfy a registered entry, and if not, why not when the reason is not just
    "different"? Exact string equality, or a full match of a pattern within a time limit.

    A pattern only ever matches a well-formed URL: nothing longer than the URL limit, with
    whitespace, a user:password@ part or a fragment, whatever the pattern says. A pattern
    the rules refuse (a stored entry from before a rule change) matches nothing.
    """
    if not isinstance(url, str) or not url or not isinstance(entry, str) or not entry:
        return MatchResult(False, "Nothing to compare.")
    reason = _never_matches(url)
    if reason:
        return MatchResult(False, reason)
    if not is_pattern(entry):
        if entry == url:
            return MatchResult(True)
        if normalise_entry(entry) == normalise_entry(url):
            return MatchResult(False, "An exact entry must equal the URL character for character; "
                                      "these differ in upper and lower case.")
        return MatchResult(False)
    if not _usable_pattern(entry):
        return MatchResult(False, "The rules refuse this pattern, so it matches nothing.")
    scheme = url.split(":", 1)[0].lower()
    # The scheme the pattern was accepted with is required again, whatever the pattern's body.
    if entry.startswith(_PATTERN_HTTPS):
        if scheme != "https":
            return MatchResult(False, "The pattern starts with ^https://; the URL does not use https://.")
    elif not (entry.startswith("^http://") and scheme == "http"):
        return MatchResult(False, "The pattern starts with ^http://; the URL does not use http://.")
    try:
        found = _compiled(entry).fullmatch(url, timeout=MATCH_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.warning("Redirect pattern %r took longer than %ss on a URL of %d characters",
                       shown(entry), MATCH_TIMEOUT_SECONDS, len(url))
        return MatchResult(False, "Matching took too long and counts as no match: simplify the pattern.")
    return MatchResult(found is not None)


def matches(entry: str, url: str) -> bool:
    """Does ``url`` satisfy a registered entry? See explain_match."""
    return explain_match(entry, url).matches


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str):
    return regex.compile(pattern)


@functools.lru_cache(maxsize=1024)
def _usable_pattern(pattern: str) -> bool:
    """A stored pattern still passes the rules (anchors, size, speed, written-out host)."""
    return _pattern_problem(pattern) is None


# ---------------------------------------------------------------- integration endpoints

def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """A host written as a number in any form a URL parser or resolver accepts (2130706433,
    0x7f000001, 127.1, 0177.0.0.1); None for a name. ValueError for a number that is no address."""
    labels = host.split(".")
    if not re.fullmatch(r"0x[0-9a-f]*|[0-9]+", labels[-1]):
        return None
    if len(labels) > 4:
        raise ValueError(host)
    numbers = []
    for label in labels:
        if re.fullmatch(r"0x[0-9a-f]*", label):
            numbers.append(int(label[2:] or "0", 16))
        elif re.fullmatch(r"0[0-7]+", label):
            numbers.append(int(label, 8))
        elif re.fullmatch(r"0|[1-9][0-9]*", label):
            numbers.append(int(label))
        else:
            raise ValueError(host)
    *head, last = numbers
    if any(number > 255 for number in head) or last >= 256 ** (4 - len(head)):
        raise ValueError(host)
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _address_kind(address) -> str | None:
    """What a non-public address is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded_ipv4(address)):
        return _address_kind(inner)
    checks = (("is_loopback", "a loopback address"),
              ("is_link_local", "a link-local address (such as the cloud metadata service 169.254.169.254)"),
              ("is_multicast", "a multicast address"), ("is_unspecified", "an unspecified address"),
              ("is_private", "a private network address"), ("is_reserved", "a reserved address"))
    for attribute, description in checks:
        if getattr(address, attribute):
            return description
    if not address.is_global:
        return "an address that is not publicly reachable"
    return None


NOT_AN_ADDRESS = "a number that is not a valid address"


def private_host(host: str) -> str | None:
    """What makes a host local or internal ("localhost", "a private network address", …), or None."""
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost"
    try:
        if ":" in host:
            address = ipaddress.IPv6Address(host.split("%", 1)[0])
        else:
            address = _numeric_ipv4(host)
    except ValueError:
        return NOT_AN_ADDRESS
    return _address_kind(address) if address is not None else None


def _private_urls_allowed() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "ALLOW_PRIVATE_PARTNER_URLS", False))


def check_endpoint_url(url: str, *, environment: str, allow_private: bool | None = None) -> str | None:
    """An integration endpoint the platform calls: https to a public host name or address.

    With ALLOW_PRIVATE_PARTNER_URLS (local development), sod endpoints may also use
    http:// or https:// to localhost and private addresses. This is the save-time check; the
    outbound client checks the resolved address again when it calls.
    """
    if allow_private is None:
        allow_private = _private_urls_allowed()
    local_allowed = allow_private and environment in HTTP_LOCAL_SCOPES
    if len(url) <= MAX_URL_LENGTH and (url.endswith("$") or url.startswith("^")):
        return "Enter one https:// address; an endpoint is not a pattern."
    problem, scheme, parts = _check_absolute(url)
    if problem:
        return problem
    internal = private_host(parts.hostname)
    if internal == NOT_AN_ADDRESS:
        return "The host ends in a number but is not a valid IP address."
    if internal and local_allowed:
        return None
    if scheme != "https":
        return "Use https://: the platform calls integration endpoints over https only."
    if internal:
        return (f"The platform does not call {internal}: use the endpoint's public https:// host name.")
    return None
