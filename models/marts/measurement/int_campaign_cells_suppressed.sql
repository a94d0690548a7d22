{#-
    One row per campaign (in the reporting window) and primary segment cell,
    plus one total row per campaign: recipients, sends, opens, clicks,
    unsubscribes, conversions and attributed revenue, and whether (and why)
    the row is suppressed. rpt_campaign_performance publishes the rest.

    Groups are declared, not found in the data: every campaign launched in
    the window x every exclusive segment of the seed segment_definitions
    plus no_primary_segment (recipients without a primary segment). These
    cells partition a campaign's recipients, so a campaign total is the sum
    of its cells. small_cell_suppression() marks the cells and campaigns
    below k (primary); the release decides what else to withhold, counts and
    magnitudes, so that none can be recovered from a total or another table
    (int_release_decisions).

    Differential privacy: when rpt_campaign_performance declares
    meta.privacy.differential_privacy with enabled: true (macro
    dp_settings), each subject's contribution is bounded first (only their
    max_campaigns_per_subject most recent campaigns count, sends count once
    per recipient, attributed revenue is clamped to [0, revenue_clamp_eur]
    per recipient and campaign), then every cell's six measures get OpenDP
    Laplace noise with epsilon / 6 each: counts at sensitivity
    max_campaigns_per_subject, revenue at max_campaigns_per_subject x
    revenue_clamp_eur. Totals are sums of noisy cells and suppression looks
    at the noisy recipient count: both post-processing, so they spend no
    budget. Exact counts stay out of the published columns (only
    exact_recipient_count, for the audit, in this unpublished table).
-#}
{%- set k = published_privacy('rpt_campaign_performance').k -%}
{%- set dp = dp_settings('rpt_campaign_performance') -%}
{#- The measures that get noise under DP (count or sum); epsilon is split evenly
    over them. #}
{%- set noisy_measures = {
    'recipient_count': 'count',
    'open_count': 'count',
    'click_count': 'count',
    'unsubscribe_count': 'count',
    'conversion_count': 'count',
    'revenue_eur': 'sum',
} -%}
{%- set measures = noisy_measures | length -%}
{%- set cell_columns = [
    'campaign_id', 'campaign_name', 'campaign_objective', 'launched_date', 'cell_level',
    'segment_name',
] -%}
{#- What the release's magnitude rules read, per recipient (magnitude_statistics). #}
{%- set magnitude_measures = {
    'sends': 'recipients_bounded.send_count',
    'opened': 'case when recipients_bounded.is_opened then 1 else 0 end',
    'clicked': 'case when recipients_bounded.is_clicked then 1 else 0 end',
    'unsubscribed': 'case when recipients_bounded.is_unsubscribed then 1 else 0 end',
    'converted': 'case when recipients_bounded.is_converted then 1 else 0 end',
    'attributed_revenue_eur': 'recipients_bounded.attributed_revenue_eur',
} -%}
{%- set summed_columns = [
    'exact_recipient_count', 'recipient_count', 'send_count', 'open_count', 'click_count',
    'unsubscribe_count', 'conversion_count', 'revenue_eur',
] -%}

with

recipient_outcomes as (
    select
        campaign_id,
        campaign_name,
        campaign_objective,
        launched_date,
        customer_key,
        primary_segment,
        send_count,
        is_opened,
        is_clicked,
        is_unsubscribed,
        is_converted,
        attributed_revenue_eur
    from {{ ref('int_campaign_recipient_outcomes') }}
),

campaigns_declared as (
    select distinct
        recipient_outcomes.campaign_id,
        recipient_outcomes.campaign_name,
        recipient_outcomes.campaign_objective,
        recipient_outcomes.launched_date
    from recipient_outcomes
),

cells_declared as (
    {{ primary_segment_cells('campaigns_declared') }}
),

recipients_bounded as (
    select
        recipient_outcomes.campaign_id,
        recipient_outcomes.customer_key,
        recipient_outcomes.primary_segment,
        {%- if dp %}
        {#- Contribution bounds: one send per recipient, revenue clamped, and
            (where clause below) at most max_campaigns_per_subject campaigns. #}
        least(recipient_outcomes.send_count, 1) as send_count,
        least(greatest(recipient_outcomes.attributed_revenue_eur, 0), {{ dp.revenue_clamp_eur }})
            as attributed_revenue_eur,
        {%- else %}
        recipient_outcomes.send_count,
        recipient_outcomes.attributed_revenue_eur,
        {%- endif %}
        recipient_outcomes.is_opened,
        recipient_outcomes.is_clicked,
        recipient_outcomes.is_unsubscribed,
        recipient_outcomes.is_converted,
        row_number() over (
            partition by recipient_outcomes.customer_key
            order by recipient_outcomes.launched_date desc, recipient_outcomes.campaign_id desc
        ) as campaign_recency_rank
    from recipient_outcomes
    where recipient_outcomes.customer_key is not null
),

cells_exact as (
    select
        cells_declared.campaign_id,
        cells_declared.campaign_name,
        cells_declared.campaign_objective,
        cells_declared.launched_date,
        'cell' as cell_level,
        cells_declared.segment_name,
        count(recipients_bounded.customer_key) as recipient_count,
        coalesce(sum(recipients_bounded.send_count), 0) as send_count,
        count(*) filter (where recipients_bounded.is_opened) as open_count,
        count(*) filter (where recipients_bounded.is_clicked) as click_count,
        count(*) filter (where recipients_bounded.is_unsubscribed) as unsubscribe_count,
        count(*) filter (where recipients_bounded.is_converted) as conversion_count,
        coalesce(sum(recipients_bounded.attributed_revenue_eur), 0) as revenue_eur,
        {{ magnitude_statistics(magnitude_measures) }} as magnitude_statistics
    from cells_declared
    left join recipients_bounded
        on
            cells_declared.campaign_id = recipients_bounded.campaign_id
            and cells_declared.segment_name = recipients_bounded.primary_segment
            {%- if dp %}
            and recipients_bounded.campaign_recency_rank <= {{ dp.max_campaigns_per_subject }}
            {%- endif %}
    group by
        cells_declared.campaign_id,
        cells_declared.campaign_name,
        cells_declared.campaign_objective,
        cells_declared.launched_date,
        cells_declared.segment_name
),

{#- The released measures of each cell: exact, or noisy under DP. Materialized,
    so each cell's noise is drawn once however often it is read below. #}

cells_released as {{ materialized_cte() }} (
    select
        cells_exact.campaign_id,
        cells_exact.campaign_name,
        cells_exact.campaign_objective,
        cells_exact.launched_date,
        cells_exact.cell_level,
        cells_exact.segment_name,
        cells_exact.recipient_count as exact_recipient_count,
        {%- for measure, kind in noisy_measures.items() %}
        {%- if dp %}
        {%- set sensitivity = dp.max_campaigns_per_subject
            * (1 if kind == 'count' else dp.revenue_clamp_eur) %}
        greatest(
            {{ dp_noisy(kind, 'cells_exact.' ~ measure, sensitivity, dp.epsilon / measures) }}, 0
        ) as {{ measure }},
        {%- else %}
        cells_exact.{{ measure }},
        {%- endif %}
        {%- endfor %}
        cells_exact.send_count,
        cells_exact.magnitude_statistics
    from cells_exact
),

{#- Every declared campaign, those nobody received too (its statistics then say so). #}

campaign_statistics as (
    select
        campaigns_declared.campaign_id,
        {{ magnitude_statistics(magnitude_measures) }} as magnitude_statistics
    from campaigns_declared
    left join recipients_bounded
        on
            campaigns_declared.campaign_id = recipients_bounded.campaign_id
            {%- if dp %}
            and recipients_bounded.campaign_recency_rank <= {{ dp.max_campaigns_per_subject }}
            {%- endif %}
    group by campaigns_declared.campaign_id
),

cells_measured as (
    select
        cells_released.campaign_id,
        cells_released.campaign_name,
        cells_released.campaign_objective,
        cells_released.launched_date,
        cells_released.cell_level,
        cells_released.segment_name,
        cells_released.exact_recipient_count,
        cells_released.recipient_count,
        {%- if dp %}
        {#- One send per recipient under DP (its contribution bound): the noisy
            recipient count, never the exact sends. #}
        cells_released.recipient_count as send_count,
        {%- else %}
        cells_released.send_count,
        {%- endif %}
        cells_released.open_count,
        cells_released.click_count,
        cells_released.unsubscribe_count,
        cells_released.conversion_count,
        cells_released.revenue_eur,
        cells_released.magnitude_statistics
    from cells_released
),

campaign_sums as (
    {{ cell_totals(
        'cells_measured', group_by=['campaign_id'], sums=summed_columns,
        constants={'cell_level': 'campaign_total', 'segment_name': 'all'},
        labels=['campaign_name', 'campaign_objective', 'launched_date'],
    ) }}
),

campaign_totals as (
    select
        {%- for column in cell_columns + summed_columns %}
        campaign_sums.{{ column }},
        {%- endfor %}
        campaign_statistics.magnitude_statistics
    from campaign_sums
    left join campaign_statistics
        on campaign_sums.campaign_id = campaign_statistics.campaign_id
),

{{ small_cell_suppression(
    cells='cells_measured', totals='campaign_totals', group_by=['campaign_id'],
    count_column='recipient_count', k=k, group_below_k_reason='campaign_below_k',
) }},

{{ suppressed_rows_unioned(
    cells='cells_measured_suppressed',
    totals='campaign_totals_suppressed',
    columns=cell_columns + summed_columns + ['magnitude_statistics'],
) }},

final as (
    select
        {{ release_row_id(
            'rpt_campaign_performance', ['campaign_id', 'cell_level', 'segment_name'],
            'rows_unioned'
        ) }} as release_row_id,
        cast(rows_unioned.campaign_id as bigint) as campaign_id,
        rows_unioned.campaign_name,
        rows_unioned.campaign_objective,
        rows_unioned.launched_date,
        rows_unioned.cell_level,
        rows_unioned.segment_name,
        cast(rows_unioned.exact_recipient_count as integer) as exact_recipient_count,
        cast(rows_unioned.recipient_count as integer) as recipient_count,
        cast(rows_unioned.send_count as integer) as send_count,
        cast(rows_unioned.open_count as integer) as open_count,
        cast(rows_unioned.click_count as integer) as click_count,
        cast(rows_unioned.unsubscribe_count as integer) as unsubscribe_count,
        cast(rows_unioned.conversion_count as integer) as conversion_count,
        cast(round(rows_unioned.revenue_eur, 2) as decimal(14, 2)) as revenue_eur,
        cast(rows_unioned.magnitude_statistics as string) as magnitude_statistics,
        {{ 'true' if dp else 'false' }} as is_differentially_private,
        cast({{ dp.epsilon if dp else 'null' }} as double) as dp_epsilon,
        rows_unioned.launched_date + {{ var('measurement_attribution_days') | int }}
        < {{ as_of_date() }}
            as is_attribution_complete,
        rows_unioned.is_suppressed,
        rows_unioned.suppression_reason,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
