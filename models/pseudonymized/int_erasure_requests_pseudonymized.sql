with

erasure_requests as (
    select
        erasure_request_id,
        customer_id,
        requested_at,
        request_status
    from {{ ref('stg_preference_center__erasure_requests') }}
),

final as (
    select
        {{ pseudonymize('erasure_request', 'erasure_requests.erasure_request_id') }}
            as erasure_request_key,
        {{ pseudonymize('customer', 'erasure_requests.customer_id') }} as customer_key,
        cast(erasure_requests.requested_at as date) as requested_date,
        erasure_requests.request_status
    from erasure_requests
)

select * from final
