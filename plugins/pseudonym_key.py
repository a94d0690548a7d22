"""dbt-duckdb plugin that hands the pseudonymization key to DuckDB, and nothing else.

profiles.yml (the only place the key env var is read; dbt scrubs DBT_ENV_SECRET_* from logs):

    plugins:
      - module: pseudonym_key
        config:
          key: "{{ env_var('DBT_ENV_SECRET_PSEUDONYM_KEY', '') }}"

The key itself never reaches SQL text. The plugin pre-computes the two HMAC-SHA256 pads
(RFC 2104) and binds them as DuckDB variables with a prepared statement on every connection
and every cursor (DuckDB variables are per connection, and dbt-duckdb runs models on cursors).
The macros in macros/privacy/ read them with getvariable():

    pseudonym_hmac_ipad        BLOB(64)  K' xor 0x36..
    pseudonym_hmac_opad        BLOB(64)  K' xor 0x5c..
    pseudonym_key_fingerprint  VARCHAR   first 16 hex chars of HMAC(key, FINGERPRINT_MESSAGE)

The fingerprint identifies a key (to check that two databases or runs used the same one, or
that a rotation happened) without revealing it.

Its other duties, because dbt-duckdb loads plugins only from profiles.yml and one plugin keeps
that file simple: it registers the segment rule validator (segment_rules.py, no key involved) as
DuckDB functions on the connection, which the macro segment_rules() calls; and it stops a dbt
command started by hand while a pipeline run holds the warehouse (the lock of
privseg.core.lock), with one line naming the run, before dbt opens the file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from dp_noise import register_functions as register_dp_functions
from privseg.core.lock import LOCK_TOKEN_ENV_VAR, describe, held_by_another, lock_path
from release_protection import register_functions as register_release_functions
from segment_rules import register_functions

KEY_ENV_VAR = "DBT_ENV_SECRET_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
BLOCK_SIZE = 64  # SHA-256 block size in bytes

IPAD_VARIABLE = "pseudonym_hmac_ipad"
OPAD_VARIABLE = "pseudonym_hmac_opad"
FINGERPRINT_VARIABLE = "pseudonym_key_fingerprint"
FINGERPRINT_MESSAGE = b"pseudonym-key-fingerprint"
FINGERPRINT_LENGTH = 16

_HOW_TO_FIX = (
    f"Set the environment variable {KEY_ENV_VAR} to a secret of at least {MIN_KEY_LENGTH} "
    "characters (keep the same key for every run, or all pseudonyms change). Make one with: "
    'python -c "import secrets; print(secrets.token_hex(32))"'
)


class PseudonymKeyError(DbtRuntimeError):
    """The pseudonymization key is missing or unusable. The message never contains the key.

    A DbtRuntimeError, so dbt reports the message without a Python traceback.
    """


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """Return (ipad, opad) of HMAC-SHA256 for `key`, as in RFC 2104 and Python's hmac."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    block = key.ljust(BLOCK_SIZE, b"\x00")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def key_fingerprint(key: bytes) -> str:
    """Non-reversible short id of a key: the first 16 hex chars of HMAC(key, fixed message)."""
    digest = hmac.new(key, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_LENGTH]


def validate_key(value: object) -> bytes:
    """Return the key as UTF-8 bytes, or raise PseudonymKeyError (without echoing the value)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PseudonymKeyError(
            f"No pseudonymization key: {KEY_ENV_VAR} is not set or empty. " + _HOW_TO_FIX
        )
    if not isinstance(value, str):
        # Defensive: dbt 1.11 passes env_var() text through (an all-digit key stays a str),
        # but a number typed into the yml would hash as its repr, not as the intended bytes.
        raise PseudonymKeyError(
            f"The pseudonymization key in {KEY_ENV_VAR} was read as a "
            f"{type(value).__name__}, not text; use a key with letters, e.g. hex. " + _HOW_TO_FIX
        )
    if value != value.strip():
        # Pseudonyms from "key" and "key\n" differ; refuse rather than silently re-key.
        raise PseudonymKeyError(
            f"The pseudonymization key in {KEY_ENV_VAR} has leading or trailing whitespace; "
            "remove it. " + _HOW_TO_FIX
        )
    if len(value) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(
            f"The pseudonymization key in {KEY_ENV_VAR} is shorter than {MIN_KEY_LENGTH} "
            "characters. " + _HOW_TO_FIX
        )
    return value.encode("utf-8")


class WarehouseInUseError(DbtRuntimeError):
    """A pipeline run holds the warehouse: reported by dbt as one line, without a traceback."""


def refuse_if_pipeline_holds(warehouse: str | None) -> None:
    """Raise WarehouseInUseError when a pipeline run other than our parent holds `warehouse`.

    The pipeline's own dbt children carry the lock's token; anything else (a `dbt build` by hand)
    is stopped before it opens the file, so it can neither fail on DuckDB's lock with a traceback
    nor change the warehouse between the pipeline's build, audit and publish.
    """
    if not warehouse or warehouse == ":memory:":
        return
    path = lock_path(Path(warehouse).resolve())
    holder = held_by_another(path)
    if holder is None or (
        holder.get("token") and holder["token"] == os.environ.get(LOCK_TOKEN_ENV_VAR)
    ):
        return
    raise WarehouseInUseError(
        f"the warehouse {warehouse} is in use by a pipeline run ({describe(holder)}): "
        "run dbt again when it has ended (the pipeline builds, audits and publishes it)"
    )


class Plugin(BasePlugin):
    """Sets the HMAC pads and key fingerprint as DuckDB variables on each connection/cursor."""

    _ipad: bytes
    _opad: bytes
    _fingerprint: str

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        refuse_if_pipeline_holds(getattr(self.creds, "path", None))
        key = validate_key(plugin_config.get("key"))
        # Keep only derived values: the pads are key-equivalent, so they are never logged or
        # put into SQL text either, only bound as parameters.
        self._ipad, self._opad = hmac_pads(key)
        self._fingerprint = key_fingerprint(key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, fingerprint={self._fingerprint!r})"

    def _set_variables(self, conn: Any) -> None:
        conn.execute(f"set variable {IPAD_VARIABLE} = ?", [self._ipad])
        conn.execute(f"set variable {OPAD_VARIABLE} = ?", [self._opad])
        conn.execute(f"set variable {FINGERPRINT_VARIABLE} = ?", [self._fingerprint])

    def configure_connection(self, conn: Any) -> None:
        self._set_variables(conn)
        register_functions(conn)  # cursors see functions registered on their connection
        register_dp_functions(conn)  # OpenDP noise for the measurement marts (dp_noise.py)
        register_release_functions(conn)  # release-level suppression (release_protection.py)

    def configure_cursor(self, cursor: Any) -> None:
        # dbt-duckdb (1.11) ignores the return value and keeps using the cursor it passed in.
        self._set_variables(cursor)
