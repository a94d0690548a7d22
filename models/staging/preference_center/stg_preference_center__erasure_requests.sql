with

erasure_requests as (
    select * from {{ ref('base_preference_center__erasure_requests') }}
),

valid_erasure_requests_renamed as (
    select
        request_id as erasure_request_id,
        customer_id,
        requested_at,
        status as request_status
    from erasure_requests
    where _reject_reason is null
)

select * from valid_erasure_requests_renamed
