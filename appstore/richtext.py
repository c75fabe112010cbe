"""The listing's limited rich text: bold, italic, lists, links; everything else removed."""

import re

import nh3

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize(html: str) -> str:
    return nh3.clean(
        html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
    ).strip()


def plain_text(html: str) -> str:
    text = nh3.clean(html or "", tags=set())
    return re.sub(r"\s+", " ", text).strip()


def word_count(html: str) -> int:
    return len(plain_text(html).split())
