"""Airtable-shaped ids: a three-letter prefix and 14 alphanumerics (``rec8A1...``)."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(14))
