"""Who is exported: the audience's members that may be emailed for the campaign's purpose, joined
back to their email address through the pseudonym (pure functions, no I/O).

Three kinds of audience: a segment (segments-as-data rules over the behaviour profile, so its
members must also hold the `analytics` grant the profile needs), a stated-interest audience
(only what the customer told the preference center: no analytics grant needed), and a triggered
audience (the daily trigger feed: every purpose its trigger lists, analytics for the triggers
that read browsing or a purchase rhythm). In all, a member needs a valid grant for the export's
purpose, and a member emailed more recently than their stated frequency asks is skipped."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from privseg.core.keys import pseudonymizer


class ExportError(Exception):
    """A problem reported as one line (what is wrong, what to do), never with personal data."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# Segments are rules over the behaviour profile (fct_customer_behavior), which holds only
# subjects in scope of this purpose: a segment member leaves only with this grant too.
BEHAVIOUR_PURPOSE = "analytics"
# Stated-interest audiences (audiences.fct_stated_interest_audience) are built for this purpose,
# and the triggered audiences (audiences.fct_triggered_audience) are emailed under it.
STATED_AUDIENCE_PURPOSE = "marketing_email"
TRIGGERED_AUDIENCE_PURPOSE = "marketing_email"


@dataclass(frozen=True)
class Member:
    """One member of an audience and what decides whether they may be exported."""

    customer_key: str
    has_grant: bool  # a valid grant for the export's purpose
    has_analytics: bool  # a valid grant for BEHAVIOUR_PURPOSE
    is_due: bool  # not emailed more recently than their stated frequency asks


@dataclass(frozen=True)
class Eligibility:
    """Who of an audience may be exported, and the counts that explain the others."""

    eligible: set[str]
    members: int
    with_grant: int
    without_analytics: int | None  # None: the audience needs no analytics grant
    contacted_recently: int


def eligible_members(members: Iterable[Member], needs_analytics: bool) -> Eligibility:
    """Members with the purpose's grant, the analytics grant if the audience is behaviour-
    derived, and due for contact; each exclusion counted at the first reason that applies."""
    rows = {m.customer_key: m for m in members}
    with_grant = [m for m in rows.values() if m.has_grant]
    behaviour_ok = [m for m in with_grant if m.has_analytics or not needs_analytics]
    due = [m for m in behaviour_ok if m.is_due]
    return Eligibility(
        eligible={m.customer_key for m in due},
        members=len(rows),
        with_grant=len(with_grant),
        without_analytics=len(with_grant) - len(behaviour_ok) if needs_analytics else None,
        contacted_recently=len(behaviour_ok) - len(due),
    )


def check_interest_export_allowed(interest: str, purpose: str, interests: list[str]) -> None:
    """Raise ExportError unless `interest` is a stated interest and `purpose` is the one
    stated-interest audiences are built for."""
    if purpose != STATED_AUDIENCE_PURPOSE:
        raise ExportError(
            f"stated-interest audiences may be exported for: {STATED_AUDIENCE_PURPOSE} "
            f"(not '{purpose}')"
        )
    if interest not in interests:
        known = ", ".join(sorted(interests)) or "none (nobody has stated an interest yet)"
        raise ExportError(f"no stated-interest audience '{interest}'; stated interests: {known}")


def check_trigger_export_allowed(
    trigger: str, purpose: str, definitions: dict[str, str | None]
) -> bool:
    """Raise ExportError unless `trigger` is defined (trigger_definitions: trigger_type ->
    consent_purposes) and `purpose` is the one triggered emails are sent under; return whether
    its members also need the analytics grant (the trigger lists it)."""
    if trigger not in definitions:
        known = ", ".join(sorted(definitions)) or "none"
        raise ExportError(f"unknown trigger '{trigger}'; known triggers: {known}")
    if purpose != TRIGGERED_AUDIENCE_PURPOSE:
        raise ExportError(
            f"triggered audiences may be exported for: {TRIGGERED_AUDIENCE_PURPOSE} "
            f"(not '{purpose}')"
        )
    purposes = allowed_purposes(definitions[trigger])
    if purpose not in purposes:
        raise ExportError(
            f"trigger '{trigger}' does not list {purpose} in its consent_purposes "
            "(trigger_definitions): fix the seed and rebuild"
        )
    return BEHAVIOUR_PURPOSE in purposes


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

    members: pseudonyms of the audience's members; granted: the members that may be exported
    (eligible_members: the purpose's grant, the analytics grant a segment needs, due for
    contact; others are ignored); customers: (customer_id, email) rows, pseudonymized
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
