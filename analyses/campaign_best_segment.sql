{#
    BI example: which segment responded best to campaign X, and what is its
    revenue per member? Reads only the published table rpt_campaign_performance
    (in the publication: `select ... from rpt_campaign_performance`).
    "Best" = highest conversion rate, then click rate, then revenue per
    recipient; withheld cells (fewer than segments_k recipients) are simply
    absent, and the campaign total row is the benchmark. Set the campaign with
    --vars '{campaign_id: 512}' when compiling (dbt compile -s campaign_best_segment).
    Check is_attribution_complete: a recent campaign's conversions still accrue.
#}
{%- set campaign_id = var('campaign_id', 501) | int %}

with

campaign_performance as (
    select
        campaign_id,
        campaign_name,
        cell_level,
        segment_name,
        recipient_count,
        open_rate,
        click_rate,
        conversion_rate,
        revenue_eur,
        revenue_per_recipient_eur,
        is_attribution_complete,
        is_differentially_private
    from {{ ref('rpt_campaign_performance') }}
    where campaign_id = {{ campaign_id }}
),

campaign_benchmark as (
    select
        campaign_performance.conversion_rate as campaign_conversion_rate,
        campaign_performance.revenue_per_recipient_eur as campaign_revenue_per_recipient_eur
    from campaign_performance
    where campaign_performance.cell_level = 'campaign_total'
),

segments_ranked as (
    select
        campaign_performance.campaign_id,
        campaign_performance.campaign_name,
        campaign_performance.segment_name,
        campaign_performance.recipient_count,
        campaign_performance.open_rate,
        campaign_performance.click_rate,
        campaign_performance.conversion_rate,
        campaign_performance.revenue_per_recipient_eur,
        campaign_benchmark.campaign_conversion_rate,
        campaign_benchmark.campaign_revenue_per_recipient_eur,
        campaign_performance.is_attribution_complete,
        campaign_performance.is_differentially_private,
        row_number() over (
            order by
                campaign_performance.conversion_rate desc,
                campaign_performance.click_rate desc,
                campaign_performance.revenue_per_recipient_eur desc,
                campaign_performance.segment_name asc
        ) as response_rank
    from campaign_performance
    left join campaign_benchmark on true
    where campaign_performance.cell_level = 'cell'
)

select * from segments_ranked
order by response_rank
