{#-
    One row per contextual segment (a row of seed segment_definitions under
    contextual_advertising) and released row of rpt_contextual_audiences its
    rule matches: which published contexts and interests a platform may
    target for the segment. Rules are validated by segment_rules() (sqlglot,
    context columns only) and spliced as regenerated; only released rows are
    read, so the mapping shows nothing the publication does not.
-#}
{%- set segments = segment_rules(
    ref('segment_definitions'), 'rpt_contextual_audiences', contextual=true
) -%}

with

contextual_audiences as (
    select
        context_name,
        referrer_class,
        landing_campaign,
        device_class,
        daypart,
        market_region,
        interest_category,
        cell_level
    from {{ ref('rpt_contextual_audiences') }}
),

rules_matched as (
    {%- for segment in segments %}
    select
        '{{ segment.segment_name }}' as segment_name,
        contextual_audiences.context_name,
        contextual_audiences.interest_category,
        contextual_audiences.cell_level
    {#- the alias keeps Spark from reading `where (column)` as a table alias with columns #}
    from contextual_audiences as contextual_audiences
    where ({{ segment.sql }})
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as string) as segment_name,
        cast(null as string) as context_name,
        cast(null as string) as interest_category,
        cast(null as string) as cell_level
    where false
    {%- endfor %}
),

final as (
    select
        rules_matched.segment_name,
        rules_matched.context_name,
        rules_matched.interest_category,
        rules_matched.cell_level
    from rules_matched
)

select * from final
