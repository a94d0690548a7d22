"""Export the consented audience of one segment: the email addresses a campaign tool needs.

    python scripts/export_audience.py --segment cart_abandoners --purpose marketing_email \\
        --out exports/cart_abandoners.csv [--verbose]

Marketing operations uses it to hand an audience to a campaign tool. The segment tables hold
pseudonyms only; this is the one place where a pseudonym is turned back into a contact
address, so it exports only members who may be contacted for the stated purpose.

Inputs (the warehouse is opened read-only):
    WAREHOUSE_PATH (default data/warehouse.duckdb), built by `make run` or `dbt build`:
        segments.segment_definitions      activation_purposes: the purposes a segment's
                                          members may be exported for (space-separated)
        segments.fct_segment_membership   members of each segment (customer_key)
        consent.int_consented_subjects    subjects with a valid grant per purpose, as of the build
        staging.stg_shop__customers       customer_id and email only (erasures applied)
        pseudonymized.int_pseudonym_key_registry   fingerprint of the key of the build
    DBT_ENV_SECRET_PSEUDONYM_KEY, or else the key file (PSEUDONYM_KEY_FILE, default
    .secrets/pseudonym.key): the key the warehouse was built with. The export never makes one.

Each customer's pseudonym is recomputed here (HMAC of 'customer:<id>', docs/architecture.md) to
join the members back to their address. Members are the segment's subjects that hold a valid
grant for --purpose; members without an address are counted, not exported.

Outputs, both written atomically (<file>.tmp, then renamed) and readable by the owner only:
    OUT                 CSV with a header and one column, `email`: unique, sorted
    OUT.summary.json    segment, purpose, as_of_date, key_fingerprint, members_in_segment,
                        members_with_grant, members_without_contact, exported, output_file,
                        created_at
The same counts are logged to stderr. No address, customer id or pseudonym is ever logged or
printed, in errors neither; the key is never shown, only its fingerprint.

Exit codes: 0 exported (an empty audience too, with a warning); 1 the export failed while
reading the warehouse or writing the files (nothing was written); 2 usage or configuration:
a missing option, unknown segment, purpose the segment may not be exported for, missing
output folder, missing warehouse or table, missing or invalid key, or a key that differs from
the one that built the warehouse.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb
from common import (
    DEFAULT_KEY_FILE,
    KEY_ENV_VAR,
    KEY_FILE_ENV_VAR,
    PROJECT_DIR,
    Settings,
    pseudonymizer,
    setup_logging,
)

# The key checks live with the dbt plugin, so the export and the build accept the same keys.
sys.path.append(str(PROJECT_DIR / "plugins"))

from pseudonym_key import PseudonymKeyError, key_fingerprint, validate_key

REQUIRED_RELATIONS = (
    "segments.segment_definitions",
    "segments.fct_segment_membership",
    "consent.int_consented_subjects",
    "staging.stg_shop__customers",
    "pseudonymized.int_pseudonym_key_registry",
)
FETCH_BATCH_ROWS = 100_000
BUILD_FIRST = "build it first with `make run` (or `dbt build`)"


class ExportError(Exception):
    """A problem reported as one line (what is wrong, what to do), never with personal data."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Audience:
    """The addresses to export and the counts that explain them (no pseudonyms kept)."""

    emails: list[str]
    members_in_segment: int
    members_with_grant: int
    members_without_contact: int

    @property
    def exported(self) -> int:
        return len(self.emails)


def allowed_purposes(activation_purposes: str | None) -> list[str]:
    """The purposes a segment may be exported for; none when the seed leaves it NULL or empty."""
    return (activation_purposes or "").split()


def check_export_allowed(segment: str, purpose: str, definitions: dict[str, str | None]) -> None:
    """Raise ExportError unless `segment` exists and may be exported for `purpose`."""
    if segment not in definitions:
        known = ", ".join(sorted(definitions)) or "none"
        raise ExportError(f"unknown segment '{segment}'; known segments: {known}")
    allowed = allowed_purposes(definitions[segment])
    if not allowed:
        raise ExportError(
            f"segment '{segment}' is not exportable (no activation_purposes in segment_definitions)"
        )
    if purpose not in allowed:
        raise ExportError(
            f"segment '{segment}' may be exported for: {' '.join(allowed)} (not '{purpose}')"
        )


def select_audience(
    key: bytes,
    members: Iterable[str],
    granted: Collection[str],
    customers: Iterable[tuple[object, str | None]],
) -> Audience:
    """Join the members that hold a grant back to their email address.

    members: pseudonyms of the segment's members; granted: pseudonyms with a valid grant for the
    export's purpose (others are ignored); customers: (customer_id, email) rows, pseudonymized
    here with `key`. A member whose customer row is missing or has no address is counted in
    members_without_contact. Two members sharing an address export it once.
    """
    member_set = set(members)
    with_grant = member_set.intersection(granted)
    pseudonym_of = pseudonymizer(key)
    contacts: dict[str, str] = {}
    for customer_id, email in customers:
        if email is None or not email.strip():
            continue
        pseudonym = pseudonym_of(customer_id)
        if pseudonym in with_grant:
            contacts[pseudonym] = email
    return Audience(
        emails=sorted(set(contacts.values())),
        members_in_segment=len(member_set),
        members_with_grant=len(with_grant),
        members_without_contact=len(with_grant) - len(contacts),
    )


def summary_path(out: Path) -> Path:
    return out.with_name(out.name + ".summary.json")


def load_key() -> bytes:
    """The key from DBT_ENV_SECRET_PSEUDONYM_KEY or the key file, validated; never created."""
    value = os.environ.get(KEY_ENV_VAR, "")
    source = KEY_ENV_VAR
    if not value.strip():
        key_file = Path(os.environ.get(KEY_FILE_ENV_VAR) or DEFAULT_KEY_FILE)
        if not key_file.is_absolute():
            key_file = PROJECT_DIR / key_file
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


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise ExportError(f"warehouse {path} not found: {BUILD_FIRST}, or set WAREHOUSE_PATH")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise ExportError(
                f"warehouse {path} is being written by another process (a build?); "
                "try again when it has finished",
                code=1,
            ) from None
        raise ExportError(f"cannot open warehouse {path}: {_first_line(error)}") from None


def missing_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    return [relation for relation in REQUIRED_RELATIONS if relation not in present]


def check_key_built_warehouse(con: duckdb.DuckDBPyConnection, fingerprint: str, path: Path) -> None:
    """Refuse a key other than the build's: its pseudonyms would match no member at all."""
    stored = sorted(
        {
            row[0]
            for row in con.execute(
                "select key_fingerprint from pseudonymized.int_pseudonym_key_registry"
            ).fetchall()
        }
    )
    if not stored:
        raise ExportError(
            f"warehouse {path} records no key fingerprint of its build: rebuild it with "
            "`make run` (or `dbt build`)"
        )
    if stored != [fingerprint]:
        raise ExportError(
            f"the pseudonymization key differs from the one that built {path} (key "
            f"fingerprint {', '.join(stored)}, given {fingerprint}): set {KEY_ENV_VAR} to the "
            "key of that build"
        )


def read_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = con.execute(
        "select segment_name, activation_purposes from segments.segment_definitions"
    ).fetchall()
    return dict(rows)


def read_members(
    con: duckdb.DuckDBPyConnection, segment: str, purpose: str
) -> tuple[set[str], set[str]]:
    """(pseudonyms of the segment's members, those of them with a valid grant for purpose)."""
    rows = con.execute(
        """
        select distinct
            membership.customer_key,
            consented.customer_key is not null as has_grant
        from segments.fct_segment_membership as membership
        left join consent.int_consented_subjects as consented
            on
                membership.customer_key = consented.customer_key
                and consented.consent_purpose = $purpose
        where membership.segment_name = $segment
        """,
        {"segment": segment, "purpose": purpose},
    ).fetchall()
    return {row[0] for row in rows}, {row[0] for row in rows if row[1]}


def read_as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The build's as-of date: the membership's, else the key registry's."""
    (as_of,) = con.execute(
        "select coalesce("
        "(select max(as_of_date) from segments.fct_segment_membership), "
        "(select max(as_of_date) from pseudonymized.int_pseudonym_key_registry))"
    ).fetchone()
    return as_of


def read_contacts(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[object, str | None]]:
    """(customer_id, email) of customers with an address; no other personal column is read."""
    cursor = con.execute(
        "select customer_id, email from staging.stg_shop__customers where email is not null"
    )
    while batch := cursor.fetchmany(FETCH_BATCH_ROWS):
        yield from batch


def _write_private(path: Path, write: Callable[[TextIO], None]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # a leftover file of that name would keep its own mode
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def write_outputs(out: Path, emails: list[str], summary: dict[str, Any]) -> None:
    """Write the CSV and its summary next to it: both to <name>.tmp first, then rename both."""

    def write_csv(handle: TextIO) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["email"])
        writer.writerows([email] for email in emails)

    def write_json(handle: TextIO) -> None:
        handle.write(json.dumps(summary, indent=2) + "\n")

    files = [(out, write_csv), (summary_path(out), write_json)]
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in files:
            tmp = target.with_name(target.name + ".tmp")
            staged.append((tmp, target))
            _write_private(tmp, write)
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def export(segment: str, purpose: str, out: Path, settings: Settings) -> int:
    """Check everything, then write the audience and its summary; raise ExportError to refuse."""
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; give a file name, e.g. {out / 'audience.csv'}")
    folder = out.parent
    if not folder.is_dir():
        raise ExportError(f"output folder {folder} does not exist: create it or choose another")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"output folder {folder} is not writable: choose another")
    warehouse = settings.warehouse_path
    if out.resolve() == warehouse.resolve():
        raise ExportError("--out is the warehouse file itself: choose another file name")

    key = load_key()
    fingerprint = key_fingerprint(key)
    con = open_warehouse(warehouse)
    try:
        missing = missing_relations(con)
        if missing:
            raise ExportError(f"warehouse {warehouse} lacks {', '.join(missing)}: {BUILD_FIRST}")
        check_key_built_warehouse(con, fingerprint, warehouse)
        check_export_allowed(segment, purpose, read_definitions(con))
        members, granted = read_members(con, segment, purpose)
        as_of = read_as_of_date(con)
        audience = select_audience(key, members, granted, read_contacts(con))
    except duckdb.Error as error:
        raise _warehouse_error(error, warehouse) from None
    finally:
        con.close()

    summary = {
        "segment": segment,
        "purpose": purpose,
        "as_of_date": as_of.isoformat() if as_of else None,
        "key_fingerprint": fingerprint,
        "members_in_segment": audience.members_in_segment,
        "members_with_grant": audience.members_with_grant,
        "members_without_contact": audience.members_without_contact,
        "exported": audience.exported,
        "output_file": out.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        write_outputs(out, audience.emails, summary)
    except OSError as error:
        raise ExportError(f"could not write {out}: {error.strerror or error}", code=1) from None

    logging.info(
        "segment '%s' as of %s: %d members, %d with a valid '%s' grant, %d of those without "
        "an email address",
        segment,
        summary["as_of_date"],
        audience.members_in_segment,
        audience.members_with_grant,
        purpose,
        audience.members_without_contact,
    )
    logging.info(
        "exported %d addresses to %s (key fingerprint %s; summary in %s)",
        audience.exported,
        out,
        fingerprint,
        summary_path(out).name,
    )
    if audience.exported == 0:
        logging.warning(
            "the audience is empty: no member of segment '%s' has a valid '%s' grant and an "
            "email address; the file holds only its header",
            segment,
            purpose,
        )
    return 0


def _warehouse_error(error: duckdb.Error, warehouse: Path) -> ExportError:
    """One line for a failed query. Only catalog, binder and I/O errors (names of tables,
    columns and files) are quoted: others, such as conversion errors, can quote values."""
    if isinstance(error, duckdb.CatalogException | duckdb.BinderException):
        return ExportError(
            f"warehouse {warehouse} does not have the tables or columns the export reads "
            f"({_first_line(error)}): rebuild it with `make run` (or `dbt build`)"
        )
    if isinstance(error, duckdb.IOException):
        return ExportError(
            f"reading warehouse {warehouse} failed ({_first_line(error)}); check RAW_DATA_DIR, "
            "which the staging views read",
            code=1,
        )
    return ExportError(
        f"reading warehouse {warehouse} failed with a {type(error).__name__} (details not shown: "
        "they could quote personal data); rebuild it with `make run` and try again",
        code=1,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segment", required=True, metavar="NAME", help="segment_name to export")
    parser.add_argument(
        "--purpose",
        required=True,
        help="consent purpose of the campaign, e.g. marketing_email; must be one of the "
        "segment's activation_purposes",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="CSV file to write (mode 600)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return export(args.segment, args.purpose, args.out, Settings.from_env())
    except ExportError as error:
        logging.error("%s", error)
        return error.code


if __name__ == "__main__":
    sys.exit(main())
