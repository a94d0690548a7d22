"""campaigns and email_events: about two email campaigns a week, named by season and
objective, and each customer's sends, opens, clicks and unsubscribes (engaged customers open
and click more)."""

from __future__ import annotations

from privseg.datagen.reference import CATEGORY_NAMES, EMAIL_EVENT_TYPES
from privseg.datagen.sql import sql_list, weighted_choice
from privseg.datagen.workspace import Workspace

CAMPAIGN_SAMPLE = 0.05  # share of the customers signed up by a launch who get that campaign
# Email event type codes: index into EMAIL_EVENT_TYPES.
SEND, OPEN, CLICK, UNSUBSCRIBE = range(4)


def build_campaigns(workspace: Workspace) -> None:
    params = workspace.params
    campaigns = max(1, round(params.days * 2 / 7))
    objective = weighted_choice(
        "random_uniform('obj', campaign_number)",
        [("promotion", 0.45), ("newsletter", 0.35), ("winback", 0.10), ("product_launch", 0.10)],
    )
    launch_day = (
        f"least({params.days - 1}, floor((campaign_number + 0.15 + 0.7 * "
        f"random_uniform('cday', campaign_number)) * {params.days} / {campaigns}))"
    )
    workspace.run(f"""
        create table compact_campaigns as
        with numbered as (
            select
                campaign_number,
                501 + campaign_number as campaign_id,
                {objective} as objective,
                {params.window_start_epoch} + cast({launch_day} as bigint) * 86400 + 8 * 3600
                + cast(floor(random_uniform('ctime', campaign_number) * 10800) as bigint)
                    as launch_epoch
            from range({campaigns}) as numbers (campaign_number)
        ),

        launched as (
            select
                numbered.*,
                make_timestamp(numbered.launch_epoch * 1000000) as launched_at
            from numbered
        )

        select
            launched.campaign_id,
            launched.campaign_id as sort_key,
            launched.objective,
            launched.launch_epoch,
            case launched.objective
                when 'promotion'
                    then case
                        when month(launched.launched_at) = 11 and day(launched.launched_at) >= 18
                            then 'Black Friday Deals'
                        when month(launched.launched_at) = 12 then 'Holiday Gift Guide'
                        when month(launched.launched_at) in (1, 2) then 'Winter Sale'
                        when month(launched.launched_at) in (3, 4, 5) then 'Spring Sale'
                        when month(launched.launched_at) in (6, 7) then 'Summer Sale'
                        when month(launched.launched_at) = 8 then 'Back to School'
                        else 'Autumn Offers'
                    end
                    || ' ' || strftime(launched.launched_at, '%Y')
                    || ' #' || cast(launched.campaign_number + 1 as varchar)
                when 'newsletter' then 'Newsletter ' || strftime(launched.launched_at, '%Y-%m-%d')
                when 'winback' then 'We miss you - ' || strftime(launched.launched_at, '%B %Y')
                else 'New in '
                    || {sql_list(CATEGORY_NAMES)}[
                        1 + cast(
                            random_int('launchcat', launched.campaign_number, 0)
                            % {len(CATEGORY_NAMES)} as integer
                        )
                    ]
                    || ' ' || strftime(launched.launched_at, '%Y-%m-%d')
            end as campaign_name
        from launched
    """)
    workspace.register(
        "campaigns",
        {
            "campaign_id": "compact.campaign_id",
            "campaign_name": "compact.campaign_name",
            "channel": "'email'",
            "objective": "compact.objective",
            "launched_at": "timestamp_text(compact.launch_epoch)",
        },
    )


def build_email_events(workspace: Workspace) -> None:
    def uniform(salt: str, alias: str) -> str:
        return f"random_uniform_2('{salt}', {alias}.campaign_id, {alias}.customer_id)"

    workspace.run(f"""
        create table compact_email_events as
        with sends as (
            select
                compact_campaigns.campaign_id,
                compact_customers.customer_id,
                compact_customers.engagement,
                compact_campaigns.launch_epoch
                + cast(
                    floor(
                        random_uniform_2(
                            'sendt', compact_campaigns.campaign_id, compact_customers.customer_id
                        ) * 10800
                    ) as bigint
                ) as sent_epoch
            from compact_campaigns
            cross join compact_customers
            where
                compact_customers.signup_epoch < compact_campaigns.launch_epoch
                and random_uniform_2(
                    'send', compact_campaigns.campaign_id, compact_customers.customer_id
                ) < {CAMPAIGN_SAMPLE}
        ),

        opens as (
            select
                sends.*,
                {uniform("open", "sends")} < 0.4 * sends.engagement as is_opened,
                sends.sent_epoch + 60
                + cast(
                    least(7 * 86400, floor(-ln(1 - {uniform("opent", "sends")}) * 6 * 3600))
                    as bigint
                ) as opened_epoch
            from sends
        ),

        reactions as (
            select
                opens.*,
                opens.is_opened and {uniform("click", "opens")} < 0.225 * opens.engagement
                    as is_clicked,
                opens.opened_epoch + 5
                + cast(floor({uniform("clickt", "opens")} * 600) as bigint) as clicked_epoch,
                {uniform("unsub", "opens")} < 0.006 * (1 - opens.engagement) as is_unsubscribed,
                case when opens.is_opened then opens.opened_epoch else opens.sent_epoch end + 60
                + cast(floor({uniform("unsubt", "opens")} * 2 * 86400) as bigint)
                    as unsubscribed_epoch
            from opens
        ),

        email_events as (
            select
                campaign_id,
                customer_id,
                {SEND} as event_type_code,
                sent_epoch as occurred_epoch
            from reactions
            union all
            select campaign_id, customer_id, {OPEN}, opened_epoch
            from reactions
            where is_opened
            union all
            select campaign_id, customer_id, {CLICK}, clicked_epoch
            from reactions
            where is_clicked
            union all
            select campaign_id, customer_id, {UNSUBSCRIBE}, unsubscribed_epoch
            from reactions
            where is_unsubscribed
        )

        select
            row_number() over (
                order by occurred_epoch, campaign_id, customer_id, event_type_code
            ) as sort_key,
            cast(campaign_id as integer) as campaign_id,
            customer_id,
            cast(event_type_code as tinyint) as event_type_code,
            occurred_epoch
        from email_events
        where occurred_epoch < {workspace.params.end_epoch}
    """)
    workspace.register(
        "email_events",
        {
            "email_event_id": "compact.sort_key",
            "campaign_id": "compact.campaign_id",
            "customer_id": "compact.customer_id",
            "event_type": f"{sql_list(EMAIL_EVENT_TYPES)}[compact.event_type_code + 1]",
            "occurred_at": "timestamp_text(compact.occurred_epoch)",
        },
    )
