{#
    The erasure log an auditor reads: one row per accepted erasure request,
    recorded by the first run that saw it, which is the run that removed the
    subject everywhere (staging drops an erased subject from every model).
    No personal data: a pseudonym of the request (never of the subject), its
    dates, and the fingerprint of the key the pseudonym was made with.

    Incremental and never fully refreshed (full_refresh: false): a rebuild
    must not rewrite when past requests were fulfilled. A key rotation
    therefore leaves older rows with the old key's request pseudonyms, told
    apart by key_fingerprint. Rows past the erasure_requests retention
    policy are deleted on every run.
#}
{{ config(
    materialized='incremental',
    unique_key='erasure_request_key',
    incremental_strategy=keyed_incremental_strategy(new_keys_only=true),
    full_refresh=false,
    on_schema_change='fail',
    post_hook=[
        "{{ delete_where(this, 'requested_date < ' ~ retention_start('erasure_requests')) }}",
    ],
) }}

with

erasure_requests as (
    select
        erasure_request_id,
        requested_at,
        request_status
    from {{ ref('stg_preference_center__erasure_requests') }}
    where
        request_status in ('received', 'completed')
        and requested_at >= {{ retention_start('erasure_requests') }}
),

requests_keyed as (
    select
        {{ pseudonymize('erasure_request', 'erasure_requests.erasure_request_id') }}
            as erasure_request_key,
        cast(erasure_requests.requested_at as date) as requested_date
    from erasure_requests
),

final as (
    select
        requests_keyed.erasure_request_key,
        requests_keyed.requested_date,
        {{ as_of_date() }} as fulfilled_date,
        requests_keyed.requested_date + {{ var('erasure_deadline_days') }} as deadline_date,
        {{ as_of_date() }} > requests_keyed.requested_date + {{ var('erasure_deadline_days') }}
            as is_overdue,
        {{ pseudonym_key_fingerprint() }} as key_fingerprint
    from requests_keyed
    {%- if is_incremental() %}
    where requests_keyed.erasure_request_key not in (
        select already_logged.erasure_request_key from {{ this }} as already_logged
    )
    {%- endif %}
)

select * from final
