"""Password hashes (scrypt) for every secret the hub stores: partner credentials, local SFTP users.

The hash carries its own parameters (``scrypt$n$r$p$salt$digest``), so they can be raised
later without invalidating what is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
#: How many scrypt checks run at once (one per core here): a flood of checks queues instead of
#: starving every other thread of the process.
SCRYPT_SLOTS = threading.BoundedSemaphore(2)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def is_password_hash(value: str) -> bool:
    return value.startswith("scrypt$") and value.count("$") == 5


def password_matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    with SCRYPT_SLOTS:
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)
