"""Password hashing with the standard library (scrypt, a random salt per password)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# scrypt's cost parameters: 2**14 iterations of 8 blocks uses 16 MiB and a few
# tens of milliseconds per hash. They are stored with each hash, so they can be
# raised later without breaking the passwords already stored.
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r + 1024 * 1024,
        dklen=KEY_BYTES,
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (salt and hash in hex), safe to store."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${salt.hex()}${key.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (compared in constant time)."""
    try:
        method, n, r, p, salt, key = stored.split("$")
        if method != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, bytes.fromhex(key))
    except ValueError:  # not a hash this module wrote
        return False
