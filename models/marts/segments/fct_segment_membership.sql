{#- Validated rules from the seed, spliced only as sqlglot regenerated them. -#}
{%- set segments = segment_rules(ref('segment_definitions'), 'fct_customer_behavior') -%}

with

segment_definitions as (
    select
        segment_name,
        consent_purpose,
        priority,
        is_exclusive
    from {{ ref('segment_definitions') }}
),

customer_behavior as (
    select * from {{ ref('fct_customer_behavior') }}
),

consented_subjects as (
    select
        customer_key,
        consent_purpose
    from {{ ref('int_consented_subjects') }}
),

rules_matched as (
    {%- for segment in segments %}
    select
        customer_behavior.customer_key,
        {{ segment.priority }} as segment_priority
    {#- the alias keeps Spark from reading `where (column)` as a table alias with columns #}
    from customer_behavior as customer_behavior
    where ({{ segment.sql }})
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as string) as customer_key,
        cast(null as integer) as segment_priority
    where false
    {%- endfor %}
),

members_with_purpose as (
    select
        rules_matched.customer_key,
        segment_definitions.segment_name,
        segment_definitions.consent_purpose,
        segment_definitions.priority as segment_priority,
        segment_definitions.is_exclusive
    from rules_matched
    inner join segment_definitions
        on rules_matched.segment_priority = segment_definitions.priority
    inner join consented_subjects
        on
            rules_matched.customer_key = consented_subjects.customer_key
            and segment_definitions.consent_purpose = consented_subjects.consent_purpose
),

final as (
    select
        members_with_purpose.customer_key,
        members_with_purpose.segment_name,
        members_with_purpose.consent_purpose,
        members_with_purpose.segment_priority,
        members_with_purpose.is_exclusive,
        coalesce(
            members_with_purpose.is_exclusive
            and members_with_purpose.segment_priority = min(members_with_purpose.segment_priority)
                filter (where members_with_purpose.is_exclusive)
                over (partition by members_with_purpose.customer_key),
            false
        ) as is_primary,
        {{ as_of_date() }} as as_of_date
    from members_with_purpose
)

select * from final
