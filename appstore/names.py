"""Names people type for apps and companies: one spelling, one comparison key, no hidden characters.

Look-alike names ("Acme", "Ａｃｍｅ", "acme", "Acme" with a non-breaking space) must count as
the same name, and a name must not carry characters a reader cannot see.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

# Control, format (zero-width, bidi overrides), private-use, surrogate, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def normalise_name(value: str) -> str:
    """NFKC form, every run of whitespace as one space, nothing at either end."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def name_key(value: str) -> str:
    """What two names are compared by: the normalised name, case-folded."""
    return unicodedata.normalize("NFKC", normalise_name(value).casefold())


def _describe(ch: str) -> str:
    label = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {label}" if label else f"U+{ord(ch):04X}"


def refuse_hidden_characters(value: str, *, what: str = "The name") -> None:
    """Refuse control and invisible formatting characters, naming each one found.

    Checked before whitespace is collapsed, so a tab or line break inside a name is refused,
    not silently turned into a space; leading and trailing whitespace is trimmed first.
    """
    found = sorted({ch for ch in unicodedata.normalize("NFKC", value).strip()
                    if unicodedata.category(ch) in HIDDEN_CATEGORIES})
    if found:
        raise ValidationError(
            f"{what} may not contain control or invisible formatting characters: "
            + ", ".join(_describe(ch) for ch in found) + ".",
            code="hidden_characters")


def refuse_characters(value: str, forbidden: set[str] | frozenset[str], *,
                      what: str = "The name") -> None:
    """Refuse the given characters (looked for in the NFKC form, so full-width forms count)."""
    bad = sorted({ch for ch in unicodedata.normalize("NFKC", value) if ch in forbidden})
    if bad:
        raise ValidationError(f"{what} may not contain " + " ".join(f"“{ch}”" for ch in bad) + ".",
                              code="forbidden_characters")


def validate_name(value: str, forbidden: set[str] | frozenset[str], *, what: str = "The name") -> None:
    """Both checks, reporting every problem at once."""
    errors: list[ValidationError] = []
    for check in (lambda: refuse_hidden_characters(value, what=what),
                  lambda: refuse_characters(value, forbidden, what=what)):
        try:
            check()
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


COMPANY_NAME_FORBIDDEN = frozenset("<>")


def validate_company_name(value: str) -> None:
    validate_name(value, COMPANY_NAME_FORBIDDEN, what="The company name")


def clean_name(value: str, *, validate, empty_message: str, max_length: int | None = None,
               field: str = "name") -> str:
    """A name as stored: checked by ``validate``, normalised, not empty, not too long.

    Errors are raised against ``field`` so forms show them on the right input.
    """
    try:
        validate(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from exc
    normalised = normalise_name(value)
    if not normalised:
        raise ValidationError({field: empty_message})
    if max_length is not None and len(normalised) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."})
    return normalised


# Latin letters that NFKD does not split into a base letter plus accents, spelled as people
# write them in plain ASCII (Ærø -> Aero, Straße -> Strasse, Łódź -> Lodz).
_LATIN_SPELLINGS = str.maketrans({
    "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "ß": "ss", "ẞ": "SS",
    "Þ": "TH", "þ": "th", "Ð": "D", "ð": "d", "Đ": "D", "đ": "d", "Ł": "L", "ł": "l",
    "Ħ": "H", "ħ": "h", "ı": "i", "Ŧ": "T", "ŧ": "t", "Ŋ": "NG", "ŋ": "ng",
})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def seo_slug(value: str, *, fallback: str, max_length: int = 56) -> str:
    """A name as an SEO name: ASCII lowercase letters and digits in dash-separated words.

    Letters are transliterated first and accents dropped (NFKD), so "Ærø Ølsen AS" becomes
    "aero-olsen-as"; a name with nothing usable (only emoji, say) gets ``fallback``.
    """
    ascii_text = (unicodedata.normalize("NFKD", value.translate(_LATIN_SPELLINGS))
                  .encode("ascii", "ignore").decode("ascii").lower())
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")[:max_length].rstrip("-")
    return slug or fallback
