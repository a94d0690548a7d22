"""The key the warehouse was built with, for the export: read and validated, never created."""

from __future__ import annotations

import logging
import os

from privseg.core.keys import KEY_ENV_VAR, KEY_FILE_ENV_VAR, key_file_path
from privseg.export.audience import ExportError
from pseudonym_key import PseudonymKeyError, validate_key


def load_key() -> bytes:
    """The key from DBT_ENV_SECRET_PSEUDONYM_KEY or the key file, validated; never created."""
    value = os.environ.get(KEY_ENV_VAR, "")
    source = KEY_ENV_VAR
    if not value.strip():
        key_file = key_file_path()
        if not key_file.exists():
            raise ExportError(
                f"no pseudonymization key: {KEY_ENV_VAR} is not set and the key file {key_file} "
                f"does not exist. Set {KEY_ENV_VAR} (or {KEY_FILE_ENV_VAR}) to the key the "
                "warehouse was built with; the export never creates a key"
            )
        try:
            value = key_file.read_text().strip()
        except OSError as error:
            raise ExportError(
                f"cannot read the key file {key_file}: {error.strerror}. Set {KEY_ENV_VAR} "
                "or fix the file's permissions"
            ) from None
        source = str(key_file)
    try:
        key = validate_key(value)
    except PseudonymKeyError as error:
        raise ExportError(
            f"{error.msg} (key read from {source}; the export needs the key the warehouse "
            "was built with)"
        ) from None
    logging.debug("pseudonymization key: from %s", source)
    return key
