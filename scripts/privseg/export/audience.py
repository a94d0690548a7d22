"""Who is exported: the segment's members that hold a grant for the campaign's purpose, joined
back to their email address through the pseudonym (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from privseg.core.keys import pseudonymizer


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
