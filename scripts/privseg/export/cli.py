"""Export a consented audience: the email addresses a campaign tool needs.

    python scripts/export_audience.py --segment cart_abandoners --purpose marketing_email \
        --out exports/cart_abandoners.csv [--verbose]
    python scripts/export_audience.py --interest books --purpose marketing_email \
        --out exports/books.csv
    python scripts/export_audience.py --trigger cart_abandoned --purpose marketing_email \
        --out exports/cart_abandoned.csv

Marketing operations uses it to hand an audience to a campaign tool. The audience tables hold
pseudonyms only; this is the one place where a pseudonym is turned back into a contact
address, so it exports only members who may be contacted for the stated purpose.

Three kinds of audience:
    --segment NAME      a segment of segment_definitions: rules over the behaviour profile, so
                        a member leaves only with a valid `analytics` grant as well as one for
                        --purpose (one of the segment's activation_purposes)
    --interest CATEGORY a stated-interest audience (zero-party): customers who told the
                        preference center they care about CATEGORY and chose email; built from
                        what they stated only, so no analytics grant is needed; --purpose must
                        be marketing_email
    --trigger TYPE      a triggered audience: the customers the daily trigger feed holds for
                        TYPE (trigger_definitions) as of the build; a member leaves only with
                        a valid grant for every purpose the trigger lists (analytics too for
                        the triggers that read browsing or a purchase rhythm); --purpose must
                        be marketing_email
In all, a member emailed more recently than their stated frequency asks
(audiences.int_email_contact_schedule) is skipped.

Inputs (the warehouse is opened read-only):
    WAREHOUSE_PATH (default data/warehouse.duckdb), built by `make run` or `dbt build`:
        segments.segment_definitions      activation_purposes: the purposes a segment's
                                          members may be exported for (space-separated)
        segments.fct_segment_membership   members of each segment (customer_key)
        audiences.fct_stated_interest_audience   members of each stated interest
        audiences.trigger_definitions     consent_purposes of each trigger (--trigger only)
        audiences.fct_triggered_audience  the trigger feed: members of each trigger (--trigger)
        audiences.int_email_contact_schedule     who is due for contact as of the build
        consent.int_consented_subjects    subjects with a valid grant per purpose, as of the build
        staging.stg_shop__customers       customer_id and email only (erasures applied)
        pseudonymized.int_pseudonym_key_registry   fingerprint of the key of the build
    DBT_ENV_SECRET_PSEUDONYM_KEY, or else the key file (PSEUDONYM_KEY_FILE, default
    .secrets/pseudonym.key): the key the warehouse was built with. The export never makes one.

Each customer's pseudonym is recomputed here (HMAC-SHA256 of 'customer:<id>', the format in
docs/architecture.md) to join the members back to their address; members without an address
are counted, not exported.

Outputs, both written atomically (<file>.tmp, then renamed) and readable by the owner only:
    OUT                 CSV with a header and one column, `email`: unique, sorted
    OUT.summary.json    segment (or interest, or trigger), purpose, as_of_date, key_fingerprint,
                        members_in_audience, members_with_grant,
                        members_without_analytics_grant (null when the audience needs no
                        analytics grant: stated interests, purchase-date triggers),
                        members_contacted_recently, members_without_contact, exported,
                        output_file, created_at
The same counts are logged to stderr. No address, customer id or pseudonym is ever logged or
printed, in errors neither; the key is never shown, only its fingerprint.

Exit codes: 0 exported (an empty audience too, with a warning); 1 the export failed while
reading the warehouse or writing the files (nothing was written); 2 usage or configuration:
a missing option, unknown segment, interest or trigger, purpose the audience may not be
exported for, missing output folder, missing warehouse or table, missing or invalid key, a key
that differs from the one that built the warehouse, or a pipeline run holding the warehouse
(its lock, see privseg.core.lock: the export never reads a warehouse that a run is rebuilding).
"""

from __future__ import annotations

import argparse
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from privseg.core.lock import LockBusy, add_wait_argument, reading
from privseg.core.logs import setup_logging
from privseg.core.settings import Settings, project_vars
from privseg.export.audience import (
    BEHAVIOUR_PURPOSE,
    ExportError,
    check_export_allowed,
    check_interest_export_allowed,
    check_trigger_export_allowed,
    eligible_members,
    select_audience,
)
from privseg.export.files import summary_path, write_outputs
from privseg.export.key import load_key
from privseg.export.warehouse import (
    BUILD_FIRST,
    REQUIRED_RELATIONS,
    TRIGGER_RELATIONS,
    check_key_built_warehouse,
    missing_relations,
    open_warehouse,
    read_as_of_date,
    read_contacts,
    read_definitions,
    read_interest_members,
    read_members,
    read_trigger_definitions,
    read_trigger_members,
    warehouse_error,
)
from pseudonym_key import key_fingerprint


def export(audience_kind: str, name: str, purpose: str, out: Path, settings: Settings) -> int:
    """Check everything, then write the audience and its summary; raise ExportError to refuse.

    audience_kind: "segment" (--segment), "interest" (--interest) or "trigger" (--trigger)."""
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
    is_segment = audience_kind == "segment"
    if audience_kind == "interest":
        interests = [str(i) for i in project_vars().get("behavior_affinity_categories") or []]
        check_interest_export_allowed(name, purpose, interests)

    key = load_key()
    fingerprint = key_fingerprint(key)
    con = open_warehouse(warehouse)
    try:
        required = REQUIRED_RELATIONS + (TRIGGER_RELATIONS if audience_kind == "trigger" else ())
        missing = missing_relations(con, required)
        if missing:
            raise ExportError(f"warehouse {warehouse} lacks {', '.join(missing)}: {BUILD_FIRST}")
        check_key_built_warehouse(con, fingerprint, warehouse)
        if is_segment:
            check_export_allowed(name, purpose, read_definitions(con))
            members = read_members(con, name, purpose)
            needs_analytics = True
        elif audience_kind == "trigger":
            triggers = read_trigger_definitions(con)
            needs_analytics = check_trigger_export_allowed(name, purpose, triggers)
            members = read_trigger_members(con, name, purpose)
        else:
            members = read_interest_members(con, name, purpose)
            needs_analytics = False
        eligibility = eligible_members(members, needs_analytics=needs_analytics)
        as_of = read_as_of_date(con)
        audience = select_audience(
            key, [m.customer_key for m in members], eligibility.eligible, read_contacts(con)
        )
    except duckdb.Error as error:
        raise warehouse_error(error, warehouse) from None
    finally:
        con.close()

    summary = {
        audience_kind: name,
        "purpose": purpose,
        "as_of_date": as_of.isoformat() if as_of else None,
        "key_fingerprint": fingerprint,
        "members_in_audience": eligibility.members,
        "members_with_grant": eligibility.with_grant,
        "members_without_analytics_grant": eligibility.without_analytics,
        "members_contacted_recently": eligibility.contacted_recently,
        "members_without_contact": audience.members_without_contact,
        "exported": audience.exported,
        "output_file": out.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        write_outputs(out, audience.emails, summary)
    except OSError as error:
        raise ExportError(f"could not write {out}: {error.strerror or error}", code=1) from None

    label = {
        "segment": f"segment '{name}'",
        "interest": f"stated-interest audience '{name}'",
        "trigger": f"triggered audience '{name}'",
    }[audience_kind]
    logging.info(
        "%s as of %s: %d members, %d with a valid '%s' grant%s, %d of those emailed more "
        "recently than their stated frequency asks (skipped), %d without an email address",
        label,
        summary["as_of_date"],
        eligibility.members,
        eligibility.with_grant,
        purpose,
        (
            f", {eligibility.without_analytics} of those without the '{BEHAVIOUR_PURPOSE}' grant "
            f"{'a behaviour-derived segment' if is_segment else 'this trigger'} needs (skipped)"
            if eligibility.without_analytics is not None
            else ""
        ),
        eligibility.contacted_recently,
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
            "the audience is empty: no member of %s may be emailed for '%s' now (grant, due "
            "date and address); the file holds only its header",
            label,
            purpose,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    audience = parser.add_mutually_exclusive_group(required=True)
    audience.add_argument("--segment", metavar="NAME", help="segment_name to export")
    audience.add_argument(
        "--interest",
        metavar="CATEGORY",
        help="stated interest to export (stated-interest audience, purpose marketing_email)",
    )
    audience.add_argument(
        "--trigger",
        metavar="TYPE",
        help="trigger_type of trigger_definitions to export (the daily trigger feed, purpose "
        "marketing_email)",
    )
    parser.add_argument(
        "--purpose",
        required=True,
        help="consent purpose of the campaign, e.g. marketing_email; must be one of the "
        "segment's activation_purposes",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="CSV file to write (mode 600)"
    )
    add_wait_argument(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    settings = Settings.from_env()
    kind, name = (
        ("segment", args.segment)
        if args.segment is not None
        else ("trigger", args.trigger)
        if args.trigger is not None
        else ("interest", args.interest)
    )
    try:
        with reading(settings.warehouse_path, "audience export", args.wait):
            return export(kind, name, args.purpose, args.out, settings)
    except LockBusy as busy:
        logging.error("%s", busy)
        return 2
    except ExportError as error:
        logging.error("%s", error)
        return error.code
