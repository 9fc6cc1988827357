"""Signed push requests: HMAC-SHA256 over the method, path, timestamp, nonce and body.

As Stripe signs its webhooks, with the replay window it uses: a request carries

- ``X-Hub-Timestamp``: Unix seconds when it was signed; more than :data:`TOLERANCE` seconds
  from the hub's clock is refused;
- ``X-Hub-Nonce``: 16 to 64 characters (letters, digits, ``-``, ``_``), never used twice
  within the tolerance window (the hub remembers each for twice that);
- ``X-Hub-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the credential's
  signing secret, of ``METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n`` followed by the body's bytes.

During a rotation's overlap both the new and the previous signing secret are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

TOLERANCE = 300  # seconds, as Stripe's
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
SIGNATURE = re.compile(r"v1=([0-9a-f]{64})")
HEADERS = ("x-hub-timestamp", "x-hub-nonce", "x-hub-signature")


def signed_text(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n".encode() + body


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` header value a client sends (what docs/client-channels.md shows)."""
    digest = hmac.new(secret.encode(), signed_text(method, path, timestamp, nonce, body), hashlib.sha256)
    return "v1=" + digest.hexdigest()


class NonceCache:
    """Nonces seen in the last ``2 * TOLERANCE`` seconds, per credential; bounded, in process."""

    def __init__(self, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic):
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.clock = clock

    def first_use(self, username: str, nonce: str) -> bool:
        """True (and remembered) when the nonce is new for the credential; False for a replay."""
        now = self.clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            key = (username, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now + 2 * TOLERANCE
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
            return True


def refusal(secrets: tuple[str, ...], headers: dict[str, str], method: str, path: str, body: bytes,
            first_use: Callable[[str], bool], now: float | None = None) -> str | None:
    """Why the request's signature is refused, or None when it is good (its nonce then used up)."""
    timestamp, nonce, sent = (headers.get(name, "") for name in HEADERS)
    if not (timestamp and nonce and sent):
        return "this credential signs its requests: X-Hub-Timestamp, X-Hub-Nonce and X-Hub-Signature are required"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "X-Hub-Timestamp must be Unix seconds"
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > TOLERANCE:
        return f"X-Hub-Timestamp is {skew:.0f} s from the hub's clock; at most {TOLERANCE} s"
    if not NONCE.fullmatch(nonce):
        return "X-Hub-Nonce must be 16 to 64 letters, digits, '-' or '_'"
    match = SIGNATURE.fullmatch(sent)
    if match is None:
        return "X-Hub-Signature must be v1= and 64 hex digits"
    good = any(hmac.compare_digest(signature(secret, method, path, timestamp, nonce, body), sent)
               for secret in secrets)
    if not good:
        return "the signature does not match (signed text: METHOD, path, timestamp, nonce, body)"
    if not first_use(nonce):
        return "this nonce was used already (a replayed request)"
    return None
