"""The key the warehouse was built with, for the export: read and validated, never created."""

from __future__ import annotations

from privseg.core.keys import KeyUnavailable, load_existing_key
from privseg.export.audience import ExportError


def load_key() -> bytes:
    """The key from DBT_ENV_SECRET_PSEUDONYM_KEY or the key file, validated; never created."""
    try:
        return load_existing_key("the export")
    except KeyUnavailable as error:
        raise ExportError(str(error)) from None
