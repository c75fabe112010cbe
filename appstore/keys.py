"""RSA keys of app clients: generating a key pair, and reading a public key a partner uploads.

A partner's key arrives as PEM (``PUBLIC KEY``, ``RSA PUBLIC KEY`` or an X.509
``CERTIFICATE``) or in the .NET RSA-XML format (``<RSAKeyValue><Modulus>…``). Whatever
the form, the platform keeps one normalised thing: the SubjectPublicKeyInfo PEM, its bit
size and the SHA-256 fingerprint of its DER encoding. Private keys are only ever
generated here and handed back to the caller once; nothing in this module stores them.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from xml.parsers import expat

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError

MAX_KEY_TEXT_BYTES = 16 * 1024
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
GENERATED_KEY_SIZES = (2048, 3072)
DEFAULT_KEY_BITS = 2048

EMPTY_KEY = "Paste a public key or choose a key file."
TOO_LARGE = ("The key text is larger than 16 KB; a public key is much smaller. "
             "Check that you chose the right file.")
PRIVATE_KEY = "This is a private key; upload only the public key."
NOT_A_KEY = ("This is not a public key we can read. Use a PEM public key (“BEGIN PUBLIC KEY” or "
             "“BEGIN RSA PUBLIC KEY”), an X.509 certificate (“BEGIN CERTIFICATE”) or RSA-XML "
             "(<RSAKeyValue> with <Modulus> and <Exponent>).")
NOT_RSA = "Only RSA keys are accepted; this is {kind} key."
TOO_SMALL = "The key has {bits} bits; use an RSA key of at least 2048 bits."
TOO_BIG = "The key has {bits} bits; keys larger than 8192 bits are not accepted."
EVEN_MODULUS = ("This is not a usable RSA public key: its modulus is an even number, so it cannot be "
                "the product of two large primes. Export the public key again from your key pair.")
BAD_EXPONENT = ("This is not a usable RSA public key: its public exponent must be an odd number of at "
                "least 3 and at most 32 bits (almost every key uses 65537). Export the public key again "
                "from your key pair.")
MAX_EXPONENT_BITS = 32  # what common RSA libraries accept (Go refuses more than 31 bits, CNG 32)
XML_DTD = "The XML may not contain a DOCTYPE or entity declarations."
NOT_TEXT = "The key file is not text; upload a PEM or RSA-XML file."

# Elements of a .NET RSA-XML private key, in the order RSA.ToXmlString(true) writes them.
XML_PUBLIC_PARTS = ("Modulus", "Exponent")
XML_PRIVATE_PARTS = ("P", "Q", "DP", "DQ", "InverseQ", "D")

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")


@dataclass(frozen=True)
class PublicKeyInfo:
    """A public key as the platform stores it."""

    pem: str
    bits: int
    fingerprint: str  # SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex


@dataclass(frozen=True)
class GeneratedKeyPair:
    """A fresh key pair; the private halves are shown once and never stored."""

    public: PublicKeyInfo
    private_pem: str  # PKCS#8, unencrypted
    private_xml: str  # .NET RSA-XML with the private parameters


def invalid(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


# ---------------------------------------------------------------- describing and generating

def describe(public_key: rsa.RSAPublicKey) -> PublicKeyInfo:
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = public_key.public_bytes(serialization.Encoding.PEM,
                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return PublicKeyInfo(pem=pem, bits=public_key.key_size, fingerprint=hashlib.sha256(der).hexdigest())


def load_public_pem(pem: str) -> rsa.RSAPublicKey:
    """A stored public key back as a key object (for verifying signatures)."""
    return serialization.load_pem_public_key(pem.encode("ascii"))


def fingerprint_display(fingerprint: str) -> str:
    """ab:cd:ef… as people compare fingerprints."""
    return ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))


def _b64_int(value: int, length: int | None = None) -> str:
    """Big-endian, unsigned, base64; padded with leading zeros to ``length`` bytes when given."""
    size = length or max(1, (value.bit_length() + 7) // 8)
    return base64.b64encode(value.to_bytes(size, "big")).decode("ascii")


def private_key_xml(private_key: rsa.RSAPrivateKey) -> str:
    """The .NET RSA-XML form of a private key (what RSA.ToXmlString(true) writes).

    .NET expects D as long as the modulus and P, Q, DP, DQ, InverseQ half as long, so the
    values are padded to those lengths.
    """
    numbers = private_key.private_numbers()
    public = numbers.public_numbers
    size = (private_key.key_size + 7) // 8
    half = (size + 1) // 2
    parts = {
        "Modulus": _b64_int(public.n, size),
        "Exponent": _b64_int(public.e),
        "P": _b64_int(numbers.p, half),
        "Q": _b64_int(numbers.q, half),
        "DP": _b64_int(numbers.dmp1, half),
        "DQ": _b64_int(numbers.dmq1, half),
        "InverseQ": _b64_int(numbers.iqmp, half),
        "D": _b64_int(numbers.d, size),
    }
    body = "".join(f"<{name}>{value}</{name}>" for name, value in parts.items())
    return f"<RSAKeyValue>{body}</RSAKeyValue>"


def generate_key_pair(bits: int = DEFAULT_KEY_BITS) -> GeneratedKeyPair:
    if bits not in GENERATED_KEY_SIZES:
        raise invalid("Choose a key size of 2048 or 3072 bits.", "key_size")
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode("ascii")
    return GeneratedKeyPair(public=describe(private_key.public_key()), private_pem=private_pem,
                            private_xml=private_key_xml(private_key))


# ---------------------------------------------------------------- reading an uploaded key

def parse_public_key(text: str | bytes) -> PublicKeyInfo:
    """Read an uploaded RSA public key, or raise ValidationError with a message for the partner.

    Refused: text over 16 KB, anything that is not text, private keys (in any form), non-RSA
    keys, keys under 2048 or over 8192 bits, an even modulus, an exponent that is even, under 3
    or over 32 bits, XML with a DOCTYPE or entity declarations, and anything else that is not a
    readable public key. The refused text is not kept or logged.
    """
    if isinstance(text, bytes | bytearray):
        if len(text) > MAX_KEY_TEXT_BYTES:
            raise invalid(TOO_LARGE, "too_large")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise invalid(NOT_TEXT, "not_text") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_KEY_TEXT_BYTES:
        raise invalid(TOO_LARGE, "too_large")
    text = text.strip().lstrip("\ufeff")
    if not text:
        raise invalid(EMPTY_KEY, "required")
    if "\x00" in text:
        raise invalid(NOT_TEXT, "not_text")
    if "PRIVATE KEY" in text.upper():
        # "BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY", "BEGIN ENCRYPTED PRIVATE KEY",
        # "BEGIN OPENSSH PRIVATE KEY", "BEGIN EC PRIVATE KEY"...
        raise invalid(PRIVATE_KEY, "private_key")
    if text.startswith("<"):
        public_key = _parse_xml(text)
    elif "-----BEGIN " in text:
        public_key = _parse_pem(text)
    else:
        raise invalid(NOT_A_KEY, "invalid")
    return _checked(public_key)


def _checked(public_key) -> PublicKeyInfo:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise invalid(NOT_RSA.format(kind=_key_kind(public_key)), "not_rsa")
    if public_key.key_size < MIN_KEY_BITS:
        raise invalid(TOO_SMALL.format(bits=public_key.key_size), "too_small")
    if public_key.key_size > MAX_KEY_BITS:
        raise invalid(TOO_BIG.format(bits=public_key.key_size), "too_big")
    numbers = public_key.public_numbers()
    _check_numbers(numbers.n, numbers.e)
    return describe(public_key)


def _check_numbers(modulus: int, exponent: int) -> None:
    """A key that parses is not yet a key pair's public half: a product of two odd primes is odd,
    and a usable exponent is odd, at least 3 and small."""
    if modulus % 2 == 0:
        raise invalid(EVEN_MODULUS, "even_modulus")
    if exponent < 3 or exponent % 2 == 0 or exponent.bit_length() > MAX_EXPONENT_BITS:
        raise invalid(BAD_EXPONENT, "bad_exponent")


def _key_kind(public_key) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

    kinds = ((ec.EllipticCurvePublicKey, "an elliptic-curve (EC)"), (dsa.DSAPublicKey, "a DSA"),
             (ed25519.Ed25519PublicKey, "an Ed25519"), (ed448.Ed448PublicKey, "an Ed448"))
    return next((label for cls, label in kinds if isinstance(public_key, cls)), "another kind of")


def _parse_pem(text: str):
    block = PEM_BLOCK.search(text)
    kind = block.group(1).strip() if block else ""
    data = text[block.start():].encode("ascii", "ignore") if block else b""
    try:
        if kind == "CERTIFICATE":
            return x509.load_pem_x509_certificate(data).public_key()
        if kind in ("PUBLIC KEY", "RSA PUBLIC KEY"):
            return serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    raise invalid(NOT_A_KEY, "invalid")


class _RsaXmlReader:
    """A minimal, non-resolving reader for <RSAKeyValue>: element texts by local name.

    Built on expat with every declaration handler refusing, so a DOCTYPE, an internal or
    external entity, or a parameter entity stops the parse before anything expands.
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.seen_root = False
        self._stack: list[str] = []
        self._text: list[str] = []
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_dtd
        parser.EntityDeclHandler = self._refuse_dtd
        parser.UnparsedEntityDeclHandler = self._refuse_dtd
        parser.ExternalEntityRefHandler = self._refuse_dtd
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text.append
        self._parser = parser

    @staticmethod
    def _refuse_dtd(*args):
        raise invalid(XML_DTD, "xml_dtd")

    @staticmethod
    def _local(name: str) -> str:
        return name.rsplit(":", 1)[-1]

    def _start(self, name, attrs):
        name = self._local(name)
        if name == "RSAKeyValue":
            self.seen_root = True
        self._stack.append(name)
        self._text.clear()

    def _end(self, name):
        name = self._local(name)
        self._stack.pop()
        parent = self._stack[-1] if self._stack else ""
        if parent == "RSAKeyValue":
            if name in self.values:
                raise invalid(NOT_A_KEY, "invalid")
            self.values[name] = "".join(self._text).strip()
        self._text.clear()

    def read(self, text: str) -> dict[str, str]:
        self._parser.Parse(text, True)
        return self.values


def _xml_int(value: str) -> int:
    compact = "".join(value.split())
    if not compact:
        raise invalid(NOT_A_KEY, "invalid")
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(NOT_A_KEY, "invalid") from None
    return int.from_bytes(raw, "big")


def _parse_xml(text: str):
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise invalid(XML_DTD, "xml_dtd")
    reader = _RsaXmlReader()
    try:
        values = reader.read(text)
    except expat.ExpatError:
        raise invalid(NOT_A_KEY, "invalid") from None
    if not reader.seen_root:
        raise invalid(NOT_A_KEY, "invalid")
    if any(values.get(part) for part in XML_PRIVATE_PARTS):
        raise invalid(PRIVATE_KEY, "private_key")
    if not all(values.get(part) for part in XML_PUBLIC_PARTS):
        raise invalid(NOT_A_KEY, "invalid")
    modulus, exponent = _xml_int(values["Modulus"]), _xml_int(values["Exponent"])
    if modulus.bit_length() > MAX_KEY_BITS:
        raise invalid(TOO_BIG.format(bits=modulus.bit_length()), "too_big")
    if modulus.bit_length() >= MIN_KEY_BITS:
        # The clear reason, before the library refuses the numbers with a generic error.
        _check_numbers(modulus, exponent)
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except (ValueError, TypeError):
        raise invalid(NOT_A_KEY, "invalid") from None
