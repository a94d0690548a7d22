{#-
    One row per published table: re-identification risk of what BI can
    read. Prosecutor risk of a record is 1 / the size of its equivalence
    class (the records sharing its quasi-identifier values; for an
    aggregated table, the subjects counted in its cell). The highest is
    1 / the smallest class; the average over records is classes / records.
    For a differentially private table the class sizes are its released
    (noisy) counts. Every published model must be listed here: the privacy post-hook
    (assert_privacy_classified) fails a published model this report does
    not read.
-#}
{%- set k = var('segments_k') | int -%}
{%- set l = var('segments_l') | int -%}
{%- set row_level = {
    'fct_segment_profiles': {
        'relation': ref('fct_segment_profiles'),
        'source': ref('int_segment_profiles_generalized'),
        'quasi_identifiers': [
            'primary_segment', 'age_band', 'region', 'tenure_band', 'lifetime_value_band',
        ],
        'levels': [
            'age_band_level', 'region_level', 'tenure_band_level', 'lifetime_value_band_level',
        ],
    },
} -%}
{%- set aggregated = {
    'rpt_segment_summary': {
        'relation': ref('rpt_segment_summary'),
        'source': ref('int_segment_cells_suppressed'),
        'count_column': 'member_count',
        'quasi_identifiers': ['segment_name', 'cell_level', 'age_band', 'region'],
        'levels': ['age_band_level', 'region_level'],
    },
    'rpt_campaign_performance': {
        'relation': ref('rpt_campaign_performance'),
        'source': ref('int_campaign_cells_suppressed'),
        'count_column': 'recipient_count',
        'quasi_identifiers': ['campaign_id', 'cell_level', 'segment_name'],
        'levels': [],
    },
    'rpt_cohort_retention': {
        'relation': ref('rpt_cohort_retention'),
        'source': ref('int_cohort_retention_suppressed'),
        'count_column': 'active_subjects',
        'quasi_identifiers': ['cohort_month', 'months_since_first_purchase'],
        'levels': [],
        'cell_filter': 'true',
    },
    'rpt_lifetime_value': {
        'relation': ref('rpt_lifetime_value'),
        'source': ref('int_lifetime_value_cells_suppressed'),
        'count_column': 'member_count',
        'quasi_identifiers': ['cohort_month', 'cell_level', 'segment_name'],
        'levels': [],
    },
} -%}
with

{%- for name, table in row_level.items() %}

{{ name }}_classes as (
    select count(*) as class_size
    from {{ table.relation }}
    group by {{ table.quasi_identifiers | join(', ') }}
),

{{ name }}_suppression as (
    select
        count(*) filter (where is_suppressed) as suppressed_records,
        count(distinct [{{ table.quasi_identifiers | join(', ') }}]) filter (where is_suppressed)
            as suppressed_cells,
        {%- for level in table.levels %}
        '{{ level | replace('_level', '') }}=' || cast(max({{ level }}) as varchar)
        {%- if not loop.last %} || ', ' ||{% endif %}
        {%- endfor %} as generalization
    from {{ table.source }}
),

{{ name }}_risk as (
    select
        '{{ name }}' as table_name,
        'row_level' as table_kind,
        '{{ table.quasi_identifiers | join(", ") }}' as quasi_identifiers,
        {{ k }} as k,
        {{ l }} as l,
        coalesce(sum({{ name }}_classes.class_size), 0) as records,
        count({{ name }}_classes.class_size) as equivalence_classes,
        min({{ name }}_classes.class_size) as smallest_class_size,
        coalesce(
            sum({{ name }}_classes.class_size)
                filter (where {{ name }}_classes.class_size < {{ k }}),
            0
        ) as records_in_classes_below_k
    from {{ name }}_classes
),
{%- endfor %}

{%- for name, table in aggregated.items() %}

{{ name }}_suppression as (
    {#- Suppressed members are counted in cells only: a total row counts them again.
        A table without generalization hierarchies reports 'none'. #}
    select
        coalesce(sum({{ table.count_column }}) filter (
            where is_suppressed and {{ table.get('cell_filter', "cell_level = 'cell'") }}), 0)
            as suppressed_records,
        count(*) filter (where is_suppressed) as suppressed_cells,
        {%- for level in table.levels %}
        '{{ level | replace('_level', '') }}=' || cast(max({{ level }}) as varchar)
        {%- if not loop.last %} || ', ' ||{% endif %}
        {%- else %}
        'none'
        {%- endfor %} as generalization
    from {{ table.source }}
),

{{ name }}_risk as (
    select
        '{{ name }}' as table_name,
        'aggregated' as table_kind,
        '{{ table.quasi_identifiers | join(", ") }}' as quasi_identifiers,
        {{ k }} as k,
        {{ l }} as l,
        coalesce(sum({{ table.count_column }}), 0) as records,
        count(*) as equivalence_classes,
        min({{ table.count_column }}) as smallest_class_size,
        coalesce(sum({{ table.count_column }}) filter (where {{ table.count_column }} < {{ k }}), 0)
            as records_in_classes_below_k
    from {{ table.relation }}
),
{%- endfor %}

risks_unioned as (
    {%- for name in (row_level | list) + (aggregated | list) %}
    select
        {{ name }}_risk.*,
        {{ name }}_suppression.suppressed_records,
        {{ name }}_suppression.suppressed_cells,
        {{ name }}_suppression.generalization
    from {{ name }}_risk
    cross join {{ name }}_suppression
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        risks_unioned.table_name,
        risks_unioned.table_kind,
        risks_unioned.quasi_identifiers,
        cast(risks_unioned.k as integer) as k,
        cast(risks_unioned.l as integer) as l,
        cast(risks_unioned.records as bigint) as records,
        cast(risks_unioned.equivalence_classes as bigint) as equivalence_classes,
        cast(risks_unioned.smallest_class_size as bigint) as smallest_class_size,
        cast(round(1.0 / risks_unioned.smallest_class_size, 4) as decimal(5, 4))
            as max_prosecutor_risk,
        cast(round(risks_unioned.equivalence_classes / nullif(risks_unioned.records, 0), 4)
            as decimal(5, 4)) as average_prosecutor_risk,
        cast(risks_unioned.records_in_classes_below_k as bigint) as records_in_classes_below_k,
        cast(round(risks_unioned.records_in_classes_below_k / nullif(risks_unioned.records, 0), 4)
            as decimal(5, 4)) as share_records_below_k,
        cast(risks_unioned.suppressed_records as bigint) as suppressed_records,
        cast(risks_unioned.suppressed_cells as bigint) as suppressed_cells,
        risks_unioned.generalization,
        {{ as_of_date() }} as as_of_date
    from risks_unioned
)

select * from final
