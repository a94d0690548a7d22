{#-
    One row per published table: re-identification risk of what BI can
    read. Prosecutor risk of a record is 1 / the size of its equivalence
    class (the records sharing its quasi-identifier values; for an
    aggregated table, the subjects counted in its cell). The highest is
    1 / the smallest class; the average over records is classes / records.
    For a differentially private table the class sizes are its released
    (noisy) counts.

    The tables are the models marked meta.privacy.published in the graph,
    and all this report knows of each comes from its declaration
    (published_privacy): quasi-identifiers, subject count column, k, l.
    Suppression is read from the model's one parent with an is_suppressed
    column; its <quasi-identifier>_level columns say how far each
    hierarchy was generalized, and when it has a cell_level column, only
    its 'cell' rows count suppressed members (a total row counts them
    again).

    dbt resolves ref() while it parses, before it reads any yml and before
    the graph exists, so the depends_on lines below name the published
    models once more, for dbt's DAG only. The two cannot drift apart: this
    model fails on a published model missing below or a listed model that
    is not published, and the privacy post-hook fails a published model
    this report does not read.
-#}
-- depends_on: {{ ref('fct_segment_profiles') }}
-- depends_on: {{ ref('rpt_segment_summary') }}
-- depends_on: {{ ref('rpt_campaign_performance') }}
-- depends_on: {{ ref('rpt_cohort_retention') }}
-- depends_on: {{ ref('rpt_lifetime_value') }}
{%- set tables = [] -%}
{%- if execute -%}
    {%- set published_ids = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and published_privacy(node).published -%}
        {%- do published_ids.append(node.unique_id) -%}
        {%- if node.unique_id not in model.depends_on.nodes -%}
            {{ exceptions.raise_compiler_error(
                "rpt_reidentification_risk: " ~ node.name ~ " is published but not read here; "
                ~ "add a `-- depends_on:` line with ref('" ~ node.name ~ "') at the top of this "
                ~ "model") }}
        {%- endif -%}
        {%- set sources = [] -%}
        {%- for parent_id in node.depends_on.nodes
            if 'is_suppressed' in (graph.nodes.get(parent_id) or {}).get('columns', {}) -%}
            {%- do sources.append(graph.nodes[parent_id]) -%}
        {%- endfor -%}
        {%- if sources | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "rpt_reidentification_risk: " ~ node.name ~ " must read exactly one model with an "
                ~ "is_suppressed column (the model that decides what it releases), found "
                ~ (sources | map(attribute='name') | join(', ') or 'none')) }}
        {%- endif -%}
        {%- set source = sources[0] -%}
        {%- set declared = published_privacy(node) -%}
        {%- do tables.append({
            'name': node.name,
            'relation': ref(node.name),
            'source': api.Relation.create(
                database=source.database, schema=source.schema, identifier=source.alias),
            'quasi_identifiers': declared.quasi_identifiers,
            'count_column': declared.subject_count_column,
            'k': declared.k,
            'l': declared.l,
            'levels': [],
            'has_total_rows': 'cell_level' in source.columns,
        }) -%}
        {%- for quasi_identifier in declared.quasi_identifiers
            if (quasi_identifier ~ '_level') in source.columns -%}
            {%- do tables[-1].levels.append(quasi_identifier) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for parent_id in model.depends_on.nodes if parent_id not in published_ids -%}
        {{ exceptions.raise_compiler_error(
            "rpt_reidentification_risk: " ~ parent_id ~ " is named in a depends_on line but is not "
            ~ "published (meta.privacy.published); remove the line") }}
    {%- endfor -%}
{%- endif %}

with

{%- for table in tables %}

{{ table.name }}_classes as (
    {%- if table.count_column %}
    select {{ table.count_column }} as class_size
    from {{ table.relation }}
    {%- else %}
    select count(*) as class_size
    from {{ table.relation }}
    group by {{ table.quasi_identifiers | join(', ') }}
    {%- endif %}
),

{{ table.name }}_suppression as (
    {#- Row-level: withheld subjects and classes. Aggregated: members of withheld
        cells, and withheld rows (totals and secondary suppression included).
        A table without generalization hierarchies reports 'none'. #}
    select
        {%- if table.count_column %}
        coalesce(sum({{ table.count_column }}) filter (
            where is_suppressed{% if table.has_total_rows %} and cell_level = 'cell'{% endif %}), 0)
            as suppressed_records,
        count(*) filter (where is_suppressed) as suppressed_cells,
        {%- else %}
        count(*) filter (where is_suppressed) as suppressed_records,
        count(distinct [{{ table.quasi_identifiers | join(', ') }}]) filter (where is_suppressed)
            as suppressed_cells,
        {%- endif %}
        {%- for level in table.levels %}
        '{{ level }}=' || cast(max({{ level }}_level) as varchar)
        {%- if not loop.last %} || ', ' ||{% endif %}
        {%- else %}
        'none'
        {%- endfor %} as generalization
    from {{ table.source }}
),

{{ table.name }}_risk as (
    select
        '{{ table.name }}' as table_name,
        '{{ 'aggregated' if table.count_column else 'row_level' }}' as table_kind,
        '{{ table.quasi_identifiers | join(", ") }}' as quasi_identifiers,
        {{ table.k }} as k,
        {{ table.l }} as l,
        coalesce(sum(class_size), 0) as records,
        count(*) as equivalence_classes,
        min(class_size) as smallest_class_size,
        coalesce(sum(class_size) filter (where class_size < {{ table.k }}), 0)
            as records_in_classes_below_k
    from {{ table.name }}_classes
),
{%- endfor %}

risks_unioned as (
    {%- for table in tables %}
    select
        {{ table.name }}_risk.*,
        {{ table.name }}_suppression.suppressed_records,
        {{ table.name }}_suppression.suppressed_cells,
        {{ table.name }}_suppression.generalization
    from {{ table.name }}_risk
    cross join {{ table.name }}_suppression
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
