{#
    The JSON of the release document, engine by engine (dispatched): the candidate rows'
    counts and magnitudes (release_rows), the document given to release_protection() and
    its decisions (int_release_decisions). DuckDB builds JSON values (json_object,
    to_json of struct literals); Spark builds structs and writes them with to_json, with
    embedded JSON texts joined as they are (the document's as VARIANT, parse_json). Key order
    is the same (but for the document's VARIANT members, written with sorted keys); numbers may
    be written differently (Spark writes 1.0E7 where DuckDB writes 10000000.0), which the
    engine's JSON parser reads as the same value.

    `fields` below is a list of [name, value] pairs, in order: a value is a SQL
    expression, or a list of pairs for a nested object.
#}

{#- Expression: the JSON text of one object of `fields`, then `json_fields` ([name, SQL
    expression of a JSON text] pairs), written as JSON (not as strings). NULLs are written
    as null. #}
{% macro json_object_text(fields, json_fields=[]) -%}
    {{ return(adapter.dispatch('json_object_text', 'privacy_segmentation')(fields, json_fields)) }}
{%- endmacro %}

{% macro default__json_object_text(fields, json_fields=[]) -%}
    to_json({{ json_struct_duckdb(fields, json_fields) }})
{%- endmacro %}

{#- Spark: the JSON texts are joined to the written object as they are, not as VARIANT,
    which would write their keys sorted: the same keys in the same order as on DuckDB. #}
{% macro spark__json_object_text(fields, json_fields=[]) -%}
    {%- set written = "to_json(" ~ json_struct_spark(fields)
        ~ ", map('ignoreNullFields', 'false'))" -%}
    {%- if not json_fields -%}
        {{ written }}
    {%- else -%}
        element_at(transform(
            array({{ written }}),
            object_text -> substr(object_text, 1, length(object_text) - 1)
            {%- for name, text in json_fields %}
                || ',"{{ name }}":' || {{ text }}
            {%- endfor %}
                || '}'
        ), 1)
    {%- endif -%}
{%- endmacro %}

{#- DuckDB struct literal of fields (nested lists of pairs as nested structs). #}
{% macro json_struct_duckdb(fields, json_fields=[]) -%}
    {%- set parts = [] -%}
    {%- for name, value in fields -%}
        {%- if value is string -%}
            {%- do parts.append("'" ~ name ~ "': " ~ value) -%}
        {%- else -%}
            {%- do parts.append("'" ~ name ~ "': " ~ json_struct_duckdb(value)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, text in json_fields -%}
        {%- do parts.append("'" ~ name ~ "': cast(" ~ text ~ " as json)") -%}
    {%- endfor -%}
    { {{- parts | join(', ') -}} }
{%- endmacro %}

{#- Spark named_struct of fields (nested lists of pairs as nested structs, an empty one as
    an empty map: named_struct takes at least one field); JSON texts as VARIANT. #}
{% macro json_struct_spark(fields, json_fields=[]) -%}
    {%- set parts = [] -%}
    {%- for name, value in fields -%}
        {%- if value is string -%}
            {%- do parts.append("'" ~ name ~ "', " ~ value) -%}
        {%- else -%}
            {%- do parts.append("'" ~ name ~ "', " ~ json_struct_spark(value)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, text in json_fields -%}
        {%- do parts.append("'" ~ name ~ "', parse_json(" ~ text ~ ")") -%}
    {%- endfor -%}
    {%- if parts -%}
        named_struct({{ parts | join(', ') }})
    {%- else -%}
        map()
    {%- endif -%}
{%- endmacro %}

{#- Expression: the JSON object text `entry` (json_object_text) with the statistics of
    `measure` in `statistics` (a magnitude_statistics column: sum, contributors, top1, top2)
    added, those that are NULL left out, as JSON Merge Patch (RFC 7396) leaves them out; no
    statistics for the measure (a cell nobody is in), `entry` alone. #}
{% macro magnitude_entry(entry, statistics, measure) -%}
    {{ return(adapter.dispatch('magnitude_entry', 'privacy_segmentation')(
        entry, statistics, measure)) }}
{%- endmacro %}

{% macro default__magnitude_entry(entry, statistics, measure) -%}
    json_merge_patch(
        {{ entry }}, coalesce(json_extract({{ statistics }}, '$.{{ measure }}'), '{}')
    )
{%- endmacro %}

{#- Spark has no JSON merge: the statistics are read with magnitude_statistics' fields and
    written again without their NULLs (to_json's default), then joined to the entry's
    fields. Bound once through a one-element array, so each is computed once. #}
{% macro spark__magnitude_entry(entry, statistics, measure) -%}
    element_at(transform(
        array(named_struct(
            'entry', {{ entry }},
            'statistics', to_json(from_json(
                get_json_object({{ statistics }}, '$.{{ measure }}'),
                'sum double, contributors bigint, top1 double, top2 double'
            ))
        )),
        merged -> case
            when coalesce(merged.statistics, '{}') = '{}' then merged.entry
            else substr(merged.entry, 1, length(merged.entry) - 1)
                || ',' || substr(merged.statistics, 2)
        end
    ), 1)
{%- endmacro %}

{#- The release document (int_release_decisions), built of the four macros below and
    written as text by release_document_text. #}

{#- Expression: an object of `fields` in the document; JSON texts in `json_fields`. #}
{% macro release_document_object(fields, json_fields=[]) -%}
    {{ return(adapter.dispatch('release_document_object', 'privacy_segmentation')(
        fields, json_fields)) }}
{%- endmacro %}

{% macro default__release_document_object(fields, json_fields=[]) -%}
    {%- set parts = [] -%}
    {%- for name, value in fields -%}
        {%- do parts.append("'" ~ name ~ "', " ~ value) -%}
    {%- endfor -%}
    {%- for name, text in json_fields -%}
        {%- do parts.append("'" ~ name ~ "', cast(" ~ text ~ " as json)") -%}
    {%- endfor -%}
    json_object({{ parts | join(', ') }})
{%- endmacro %}

{% macro spark__release_document_object(fields, json_fields=[]) -%}
    {{ json_struct_spark(fields, json_fields) }}
{%- endmacro %}

{#- Aggregate expression: the array of `expression` (a document object, or a list) over
    the group, in the order of `order_by` (unique in the group). #}
{% macro release_document_array(expression, order_by) -%}
    {{ return(adapter.dispatch('release_document_array', 'privacy_segmentation')(
        expression, order_by)) }}
{%- endmacro %}

{% macro default__release_document_array(expression, order_by) -%}
    to_json(list({{ expression }} order by {{ order_by }}))
{%- endmacro %}

{#- Sorted by a comparator on the key alone: a struct holding VARIANT is not orderable. #}
{% macro spark__release_document_array(expression, order_by) -%}
    transform(
        array_sort(
            collect_list(named_struct('sort_key', {{ order_by }}, 'item', {{ expression }})),
            (left_item, right_item) -> case
                when left_item.sort_key < right_item.sort_key then -1
                when left_item.sort_key > right_item.sort_key then 1
                else 0
            end
        ),
        sorted_item -> sorted_item.item
    )
{%- endmacro %}

{#- Aggregate expression: an object with one member per row of the group, `key` (unique)
    to `value` (an array or object of the document). #}
{% macro release_document_map(key, value) -%}
    {{ return(adapter.dispatch('release_document_map', 'privacy_segmentation')(key, value)) }}
{%- endmacro %}

{% macro default__release_document_map(key, value) -%}
    json_group_object({{ key }}, {{ value }})
{%- endmacro %}

{% macro spark__release_document_map(key, value) -%}
    map_from_entries(collect_list(struct({{ key }}, {{ value }})))
{%- endmacro %}

{#- Expression: the text of `document` (a release_document_object), for release_protection(). #}
{% macro release_document_text(document) -%}
    {{ return(adapter.dispatch('release_document_text', 'privacy_segmentation')(document)) }}
{%- endmacro %}

{% macro default__release_document_text(document) -%}
    cast({{ document }} as string)
{%- endmacro %}

{% macro spark__release_document_text(document) -%}
    to_json({{ document }}, map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- Set-returning expression (alone in a select list): one struct {id, measure, withheld,
    reason} per decision of `decisions` (release_protection's JSON text): its rows (measure
    NULL), then its withheld magnitudes (withheld true). #}
{% macro release_decisions_unnested(decisions) -%}
    {{ return(adapter.dispatch('release_decisions_unnested', 'privacy_segmentation')(
        decisions)) }}
{%- endmacro %}

{% macro default__release_decisions_unnested(decisions) -%}
    unnest(list_concat(
        list_transform(
            from_json(
                json_extract({{ decisions }}, '$.rows'),
                '[{"id": "VARCHAR", "withheld": "BOOLEAN", "reason": "VARCHAR"}]'
            ),
            lambda row_decision: {
                'id': row_decision.id,
                'measure': cast(null as varchar),
                'withheld': row_decision.withheld,
                'reason': row_decision.reason
            }
        ),
        list_transform(
            from_json(
                json_extract({{ decisions }}, '$.magnitudes'),
                '[{"id": "VARCHAR", "measure": "VARCHAR", "reason": "VARCHAR"}]'
            ),
            lambda magnitude_decision: {
                'id': magnitude_decision.id,
                'measure': magnitude_decision.measure,
                'withheld': true,
                'reason': magnitude_decision.reason
            }
        )
    ))
{%- endmacro %}

{#- Parsed once (a one-element array bound in a lambda), so that the engine's result is
    read once whatever Spark's optimizer does with the expression. #}
{% macro spark__release_decisions_unnested(decisions) -%}
    explode(flatten(element_at(transform(
        array(from_json(
            {{ decisions }},
            'rows array<struct<id: string, withheld: boolean, reason: string>>, '
            'magnitudes array<struct<id: string, measure: string, reason: string>>'
        )),
        parsed -> array(
            transform(parsed.rows, row_decision -> named_struct(
                'id', row_decision.id,
                'measure', cast(null as string),
                'withheld', row_decision.withheld,
                'reason', row_decision.reason
            )),
            transform(parsed.magnitudes, magnitude_decision -> named_struct(
                'id', magnitude_decision.id,
                'measure', magnitude_decision.measure,
                'withheld', true,
                'reason', magnitude_decision.reason
            ))
        )
    ), 1)))
{%- endmacro %}

{#- Aggregate expression: the text of a JSON array of the group's JSON texts `expression`,
    in the order of their text, NULLs left out ('[]' for none). #}
{% macro json_array_text(expression) -%}
    {{ return(adapter.dispatch('json_array_text', 'privacy_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__json_array_text(expression) -%}
    cast(
        to_json(
            coalesce(
                list({{ expression }} order by cast({{ expression }} as string))
                    filter (where {{ expression }} is not null),
                []
            )
        ) as string
    )
{%- endmacro %}

{% macro spark__json_array_text(expression) -%}
    '[' || array_join(array_sort(collect_list({{ expression }})), ',') || ']'
{%- endmacro %}

{#- Text of one statistic (`field`: sum, contributors, top1, top2) of `measure` in a
    magnitude_statistics column, NULL when absent. #}
{% macro magnitude_statistic(statistics, measure, field) -%}
    {{ return(adapter.dispatch('magnitude_statistic', 'privacy_segmentation')(
        statistics, measure, field)) }}
{%- endmacro %}

{% macro default__magnitude_statistic(statistics, measure, field) -%}
    (json_extract({{ statistics }}, '$.{{ measure }}') ->> '{{ field }}')
{%- endmacro %}

{% macro spark__magnitude_statistic(statistics, measure, field) -%}
    get_json_object({{ statistics }}, '$.{{ measure }}.{{ field }}')
{%- endmacro %}
