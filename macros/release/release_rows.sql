{#
    Select of the candidate rows of one published model as rows of the release
    document (int_release_rows): table_name, row_id, weight (records or subjects
    the row shows), primary_reason (why the row may not be published on its own,
    NULL when it may), and the JSON arrays counts and magnitudes. Everything comes
    from the model's declaration, meta.privacy.release (docs/analytics-engineers.md,
    "Add a published table"):

      candidates          the model holding every candidate row: the published
                          columns, release_row_id, suppression_reason (primary
                          reasons only) and magnitude_statistics
      records             true for a row-level table (one row per subject): a row
                          of the document is a class, its count the class size
      counts              [{column, population, dimensions: {column: dimension},
                            segment_population, population_key, within, derived}]
      magnitudes          [{column, measure, linear, rule, derived}]
      magnitude_rule      {min_contributors, dominance, p | n, k_percent}
      differentially_private
                          a boolean column: a row with noisy counts is not an exact
                          equation for the attacker (linear: false); noise protects
                          it, and only its primary reason withholds it

    A dimension column whose value is 'all' (a total row) or 'any' (the top of its
    hierarchy) counts every value of that dimension. `node` is a graph node.
#}
{% macro release_rows(node) %}
    {%- set release = (node.config.meta.get('privacy') or {}).get('release') -%}
    {%- if not release or not release.get('candidates') -%}
        {{ exceptions.raise_compiler_error(
            "release_rows(): " ~ node.name ~ " is published but declares no "
            ~ "meta.privacy.release.candidates (docs/analytics-engineers.md, "
            ~ "'Add a published table')") }}
    {%- endif -%}
    {%- set candidates = graph.nodes.get('model.' ~ project_name ~ '.' ~ release.candidates) -%}
    {%- if candidates is none -%}
        {{ exceptions.raise_compiler_error(
            "release_rows(): " ~ node.name ~ " declares candidates '" ~ release.candidates
            ~ "', which is not a model of this project") }}
    {%- endif -%}
    {%- set columns = candidates.columns -%}
    {%- set records = release.get('records', false) -%}
    {%- set counts = release.get('counts') or [] -%}
    {%- if not counts or (records and counts | length != 1) -%}
        {{ exceptions.raise_compiler_error(
            "release_rows(): " ~ node.name ~ " declares no counts (a row-level table: "
            ~ "exactly one, without a column)") }}
    {%- endif -%}
    {%- set rule = release.get('magnitude_rule') or {} -%}
    {%- set relation = api.Relation.create(
        database=candidates.database, schema=candidates.schema, identifier=candidates.alias) -%}
    {%- set entries = [] -%}
    {%- set magnitude_entries = [] -%}
    {%- set group_columns = [] -%}
    {%- for count in counts -%}
        {%- set dimensions = count.get('dimensions') or {} -%}
        {%- set segment_column = count.get('segment_population') -%}
        {%- set key_fields = [] -%}
        {%- set level_fields = [] -%}
        {%- for column, dimension in dimensions.items() -%}
            {%- do group_columns.append('candidates.' ~ column) -%}
            {%- if column == segment_column -%}
                {%- do key_fields.append([dimension, "case when segment_kinds.is_exclusive "
                    ~ "then candidates." ~ column ~ " else 'all' end"]) -%}
            {%- else -%}
                {%- do key_fields.append([dimension, "cast(candidates." ~ column
                    ~ " as string)"]) -%}
            {%- endif -%}
            {%- if (column ~ '_level') in columns -%}
                {%- do group_columns.append('candidates.' ~ column ~ '_level') -%}
                {%- do level_fields.append([dimension, "candidates." ~ column ~ "_level"]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if segment_column -%}
            {%- set population = "case when segment_kinds.is_exclusive then '" ~ count.population
                ~ "' else 'segment:' || candidates." ~ segment_column ~ " end" -%}
        {%- elif count.get('population_key') -%}
            {%- set population = "'" ~ count.population ~ ":' || cast(candidates."
                ~ count.population_key ~ " as string)" -%}
        {%- else -%}
            {%- set population = "'" ~ count.population ~ "'" -%}
        {%- endif -%}
        {%- set value = 'count(*)' if records else 'candidates.' ~ count.column -%}
        {%- set cell = [['population', population], ['key', key_fields]]
            + ([['levels', level_fields]] if level_fields else []) -%}
        {%- set within = [['within', "'" ~ (tojson(count.within) | replace("'", "''")) ~ "'"]]
            if count.get('within') else [] -%}
        {%- do entries.append(json_object_text(cell + [['value', value]], within)) -%}
        {%- if loop.first -%}
            {%- for magnitude in release.get('magnitudes') or [] -%}
                {%- set magnitude_rule = "'" ~ (tojson(magnitude.get('rule') or rule)
                    | replace("'", "''")) ~ "'" -%}
                {%- do magnitude_entries.append(magnitude_entry(
                    json_object_text(
                        [['measure', "'" ~ magnitude.measure ~ "'"]] + cell
                            + [['linear', 'false' if magnitude.get('linear') is false else 'true']],
                        [['rule', magnitude_rule]]
                    ),
                    'candidates.magnitude_statistics',
                    magnitude.measure
                )) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set weight = 'count(*)' if records else 'candidates.' ~ counts[0].column %}
    select
        '{{ node.name }}' as table_name,
        candidates.release_row_id as row_id,
        {%- if release.get('differentially_private') %}
        not coalesce(candidates.{{ release.differentially_private }}, false) as is_linear,
        {%- else %}
        true as is_linear,
        {%- endif %}
        cast({{ weight }} as bigint) as weight,
        {{ 'max(candidates.suppression_reason)' if records else 'candidates.suppression_reason' }}
            as primary_reason,
        cast('[' || {{ entries | join(" || ',' || ") }} || ']' as string) as counts,
        cast(
            {%- if magnitude_entries %}
            '[' || {{ magnitude_entries | join(" || ',' || ") }} || ']'
            {%- else %}
            '[]'
            {%- endif %}
            as string
        ) as magnitudes
    from {{ relation }} as candidates
    {%- if counts | selectattr('segment_population') | list %}
    left join {{ ref('segment_definitions') }} as segment_kinds
        on candidates.{{ (counts | selectattr('segment_population') | first).segment_population }}
        = segment_kinds.segment_name
    {%- endif %}
    {%- if records %}
    group by candidates.release_row_id, {{ group_columns | unique | join(', ') }}
    {%- endif %}
{%- endmacro %}
