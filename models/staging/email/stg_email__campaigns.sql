with

campaigns as (
    select * from {{ ref('base_email__campaigns') }}
),

valid_campaigns_renamed as (
    select
        campaign_id,
        campaign_name,
        channel as campaign_channel,
        objective as campaign_objective,
        launched_at
    from campaigns
    where _reject_reason is null
)

select * from valid_campaigns_renamed
