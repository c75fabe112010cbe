"""One-time and bearer tokens are kept only as a checksum: their SHA-256 hex digest.

256 random bits need no slow, salted hash; a lookup by the digest finds the row in one query.
"""

import hashlib


def token_checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
