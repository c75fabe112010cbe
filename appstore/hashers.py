"""The hash kept for client secrets and resource-server secrets.

These secrets are 256 random bits made by the platform, never chosen by people, so a salted
SHA-256 resists guessing as well as a slow password hash does; it lets the login service
check a secret on every token request in microseconds instead of a quarter of a second.
People's passwords keep Django's default (slow) hasher.
"""

import hashlib
import secrets

from django.contrib.auth.hashers import BasePasswordHasher, make_password, mask_hash
from django.utils.crypto import constant_time_compare

ALGORITHM = "client_secret_sha256"


class ClientSecretHasher(BasePasswordHasher):
    algorithm = ALGORITHM

    def salt(self) -> str:
        return secrets.token_hex(16)

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}{password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        return constant_time_compare(encoded, self.encode(password, self.decode(encoded)["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]),
                "hash": mask_hash(decoded["hash"])}

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None


def hash_generated_secret(raw: str) -> str:
    return make_password(raw, hasher=ALGORITHM)
