{#
    One row per customer and purpose: is processing for that purpose
    allowed as of the end of the as_of day? The decision in force then wins;
    a subject who never decided gets the default of their region (seed
    consent_region_defaults, e.g. an opt-out jurisdiction) or else the
    purpose's default (seed consent_purposes: opt-in, i.e. denied).
    A withdrawal with no earlier grant is simply the decision in force:
    denied.
#}
with

customers as (
    select
        customer_key,
        region
    from {{ ref('int_customers_pseudonymized') }}
),

decisions_in_force as (
    select
        customer_key,
        consent_purpose,
        consent_action,
        policy_version,
        valid_from,
        is_valid_grant
    from {{ ref('int_consent_intervals') }}
    where
        valid_from < {{ as_of_date() }} + interval 1 day
        and (valid_to is null or valid_to >= {{ as_of_date() }} + interval 1 day)
),

consent_purposes as (
    select
        consent_purpose,
        default_state
    from {{ ref('consent_purposes') }}
),

consent_region_defaults as (
    select
        region,
        consent_purpose,
        default_state
    from {{ ref('consent_region_defaults') }}
),

customers_by_purpose as (
    select
        customers.customer_key,
        customers.region,
        consent_purposes.consent_purpose,
        consent_purposes.default_state as purpose_default_state
    from customers
    cross join consent_purposes
),

final as (
    select
        customers_by_purpose.customer_key,
        customers_by_purpose.consent_purpose,
        case
            when decisions_in_force.customer_key is not null then decisions_in_force.is_valid_grant
            else coalesce(
                consent_region_defaults.default_state,
                customers_by_purpose.purpose_default_state
            ) = 'granted'
        end as is_granted,
        case
            when decisions_in_force.is_valid_grant then 'granted'
            when decisions_in_force.consent_action = 'granted' then 'outdated_policy'
            when decisions_in_force.consent_action = 'withdrawn' then 'withdrawn'
            when consent_region_defaults.default_state is not null
                then 'region_default_' || consent_region_defaults.default_state
            else 'purpose_default_' || customers_by_purpose.purpose_default_state
        end as state_reason,
        decisions_in_force.valid_from as decided_at,
        decisions_in_force.policy_version
    from customers_by_purpose
    left join decisions_in_force
        on customers_by_purpose.customer_key = decisions_in_force.customer_key
        and customers_by_purpose.consent_purpose = decisions_in_force.consent_purpose
    left join consent_region_defaults
        on customers_by_purpose.region = consent_region_defaults.region
        and customers_by_purpose.consent_purpose = consent_region_defaults.consent_purpose
)

select * from final
