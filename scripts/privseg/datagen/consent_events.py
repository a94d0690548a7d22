"""consent_events: each customer's consent ledger per purpose: a first decision at signup (a
refusal is recorded as withdrawn), later withdrawals, re-grants and late grants, and re-consent
when the policy changes (versions 2 and 3)."""

from __future__ import annotations

from privseg.datagen.reference import CONSENT_ACTIONS, CONSENT_SOURCES, PURPOSES
from privseg.datagen.sql import sql_list
from privseg.datagen.workspace import Workspace

# Per purpose (in PURPOSES order): the grant probability at mid-period, and its drift over the
# 3-4 years.
GRANT_RATES = [(0.76, -0.08), (0.51, -0.06), (0.37, -0.12)]
GRANTED, WITHDRAWN = CONSENT_ACTIONS.index("granted"), CONSENT_ACTIONS.index("withdrawn")
SOURCE = {source: index for index, source in enumerate(CONSENT_SOURCES)}


def _uniform(salt: str, alias: str) -> str:
    return f"random_uniform_2('{salt}', {alias}.customer_id, {alias}.purpose_index)"


def build_consent_events(workspace: Workspace) -> None:
    params = workspace.params
    end = params.end_epoch
    history_start = params.window_start_epoch - 3 * 365 * 86400
    version_2, version_3 = end - 200 * 86400, end - 60 * 86400
    purposes = ", ".join(
        f"({index}, {rate!r}, {drift!r})" for index, (rate, drift) in enumerate(GRANT_RATES)
    )
    first_source = f"""case
                    when
                        decided.signup_epoch < {params.window_start_epoch - 365 * 86400}
                        and {_uniform("imp", "decided")} < 0.5
                        then {SOURCE["import"]}
                    when decided.purpose_index = 2
                        then case
                            when {_uniform("src", "decided")} < 0.55 then {SOURCE["checkout"]}
                            else {SOURCE["preference_center"]}
                        end
                    when {_uniform("src", "decided")} < 0.7 then {SOURCE["cookie_banner"]}
                    else {SOURCE["preference_center"]}
                end"""

    def later_source(alias: str) -> str:
        return (
            f"case when {_uniform('lsrc', alias)} < 0.7 "
            f"then {SOURCE['preference_center']} else {SOURCE['cookie_banner']} end"
        )

    def after(epoch: str, salt: str, alias: str) -> str:
        """A time between `epoch` and the end of the data."""
        return (
            f"{alias}.{epoch} + 1 + cast(floor({_uniform(salt, alias)} "
            f"* ({end} - {alias}.{epoch} - 2)) as bigint)"
        )

    def reconsent(version_epoch: int, salt: str, alias: str) -> str:
        """A time within 45 days after a policy version took effect."""
        span = min(45 * 86400, end - version_epoch - 1)
        return f"{version_epoch} + cast(floor({_uniform(salt, alias)} * {span}) as bigint)"

    workspace.run(f"""
        create table compact_consent_events as
        with subject_purposes as (
            select
                compact_customers.customer_id,
                compact_customers.signup_epoch,
                compact_customers.privacy_concern,
                purposes.*,
                compact_customers.signup_epoch
                + cast(
                    floor(
                        random_uniform_2(
                            'ct0', compact_customers.customer_id, purposes.purpose_index
                        ) * 300
                    ) as bigint
                ) as first_epoch
            from compact_customers
            cross join (values {purposes}) as purposes (purpose_index, grant_rate, grant_drift)
        ),

        decided as (
            select
                subject_purposes.*,
                case
                    when {_uniform("csel", "subject_purposes")} < 0.35
                        then subject_purposes.privacy_concern
                    else {_uniform("cg", "subject_purposes")}
                end
                < subject_purposes.grant_rate + subject_purposes.grant_drift * (
                    (subject_purposes.first_epoch - {history_start}) / {end - history_start}.0
                    - 0.5
                ) as granted_first
            from subject_purposes
            where subject_purposes.first_epoch < {end}
        ),

        sourced as (
            select
                decided.*,
                {first_source} as first_source
            from decided
        ),

        withdrawn as (
            select
                sourced.*,
                sourced.granted_first
                and {_uniform("wd", "sourced")} < 0.08
                and sourced.first_epoch < {end - 2} as withdraws,
                {after("first_epoch", "wdt", "sourced")} as withdrawn_epoch,
                not sourced.granted_first
                and {_uniform("late", "sourced")} < 0.04
                and sourced.first_epoch < {end - 2} as grants_late
            from sourced
        ),

        regranted as (
            select
                withdrawn.*,
                withdrawn.withdraws
                and {_uniform("rg", "withdrawn")} < 0.25
                and withdrawn.withdrawn_epoch < {end - 2} as regrants,
                {after("withdrawn_epoch", "rgt", "withdrawn")} as regranted_epoch
            from withdrawn
        ),

        consent_events as (
            select
                regranted.customer_id,
                regranted.purpose_index,
                regranted.first_epoch as recorded_epoch,
                0 as sequence,
                case when regranted.granted_first then {GRANTED} else {WITHDRAWN} end
                    as action_code,
                regranted.first_source as source_code
            from regranted
            union all
            select
                regranted.customer_id,
                regranted.purpose_index,
                regranted.withdrawn_epoch,
                1,
                {WITHDRAWN},
                {later_source("regranted")}
            from regranted
            where regranted.withdraws
            union all
            select
                regranted.customer_id,
                regranted.purpose_index,
                regranted.regranted_epoch,
                2,
                {GRANTED},
                {SOURCE["preference_center"]}
            from regranted
            where regranted.regrants
            union all
            select
                regranted.customer_id,
                regranted.purpose_index,
                {after("first_epoch", "lgt", "regranted")},
                1,
                {GRANTED},
                {later_source("regranted")}
            from regranted
            where regranted.grants_late
            union all
            select
                regranted.customer_id,
                regranted.purpose_index,
                {reconsent(version_2, "rc2t", "regranted")},
                3,
                {GRANTED},
                {later_source("regranted")}
            from regranted
            where
                regranted.granted_first
                and not regranted.withdraws
                and regranted.first_epoch < {version_2}
                and {_uniform("rc2", "regranted")} < 0.25
            union all
            select
                regranted.customer_id,
                regranted.purpose_index,
                {reconsent(version_3, "rc3t", "regranted")},
                4,
                case when {_uniform("rc3a", "regranted")} < 0.9 then {GRANTED} else {WITHDRAWN} end,
                {later_source("regranted")}
            from regranted
            where
                regranted.granted_first
                and not regranted.withdraws
                and regranted.first_epoch < {version_3}
                and {_uniform("rc3", "regranted")} < 0.25
        )

        select
            row_number() over (
                order by recorded_epoch, customer_id, purpose_index, sequence
            ) as sort_key,
            customer_id,
            cast(purpose_index as tinyint) as purpose_index,
            cast(action_code as tinyint) as action_code,
            cast(source_code as tinyint) as source_code,
            recorded_epoch
        from consent_events
        where recorded_epoch < {end}
    """)
    workspace.register(
        "consent_events",
        {
            "consent_event_id": "compact.sort_key",
            "customer_id": "compact.customer_id",
            "purpose": f"{sql_list(PURPOSES)}[compact.purpose_index + 1]",
            "action": f"{sql_list(CONSENT_ACTIONS)}[compact.action_code + 1]",
            "source": f"{sql_list(CONSENT_SOURCES)}[compact.source_code + 1]",
            "policy_version": f"case when compact.recorded_epoch >= {version_3} then '3' "
            f"when compact.recorded_epoch >= {version_2} then '2' else '1' end",
            "recorded_at": "timestamp_text(compact.recorded_epoch)",
        },
    )
