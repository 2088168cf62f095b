"""Short, random, prefixed ids (``asg_k3j2...``): easy to read in logs and URLs."""

import base64
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"
