import hashlib


def token_hash(token: str) -> str:
    """What a client's row stores of its bearer token: the SHA-256, so a token is found by its
    hash and a leaked table reveals no token."""
    return hashlib.sha256(token.encode()).hexdigest()
