{#
    The file or folder a raw source table is read from, taken from the
    source's external_location (the one place that names it) so the raw
    data check looks exactly where the models will read.
#}
{% macro raw_table_path(source_node) -%}
    {%- set location = source_node.config.get('external_location')
        or source_node.meta.get('external_location') -%}
    {%- if not location -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_node.source_name ~ "." ~ source_node.name
            ~ " has no external_location") }}
    {%- endif -%}
    {%- set match = modules.re.search("read_parquet\\('([^']+)'", location) -%}
    {%- if match is none -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_node.source_name ~ "." ~ source_node.name
            ~ ": external_location must start with read_parquet('<path>', ...), got " ~ location) }}
    {%- endif -%}
    {{- match.group(1).replace('{name}', source_node.identifier) -}}
{%- endmacro %}
