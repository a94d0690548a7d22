{#
    on-run-start hook: before anything reads a raw table, check that each
    source's Parquet file (or folder) exists, has the columns the source yml
    declares, as text (raw columns are exported as text), and is not empty
    (unless the table sets meta.allow_empty).
    Fails with one message naming every problem: which table, the path it
    looked at, and what to do. A bare "No files found" error from deep inside
    a view would name neither.
#}
{% macro check_raw_sources() %}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'test', 'run-operation') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set problems = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- set files = raw_table_files(node) -%}
        {%- set location = files.glob -%}
        {%- if files.layout == 'missing' -%}
            {%- set path = raw_table_path(node) -%}
            {%- do problems.append(
                "raw table '" ~ node.name ~ "' (source " ~ node.source_name ~ "." ~ node.name
                ~ ") not found: looked for " ~ path
                ~ " (a Parquet file, or a folder of Parquet files) and "
                ~ path[:-8] ~ "/load_date=YYYY-MM-DD/*.parquet (one folder per load)") -%}
        {%- else -%}
            {%- set types = raw_column_types(files) -%}
            {%- set missing = [] -%}
            {%- set not_text = [] -%}
            {%- for column in node.columns -%}
                {%- if column not in types -%}
                    {%- do missing.append(column) -%}
                {%- elif types[column] | upper not in ('VARCHAR', 'STRING') -%}
                    {%- do not_text.append(column ~ ' ' ~ types[column]) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if missing -%}
                {%- do problems.append(
                    "raw table '" ~ node.name ~ "' at " ~ location ~ " lacks column(s) "
                    ~ (missing | join(', ')) ~ " declared in its source yml") -%}
            {%- elif not_text -%}
                {%- do problems.append(
                    "raw table '" ~ node.name ~ "' at " ~ location ~ " has column(s) "
                    ~ (not_text | join(', ')) ~ " where text (VARCHAR) is expected: "
                    ~ "export every raw column as text") -%}
            {%- else -%}
                {%- set row_count = raw_row_count(files) -%}
                {%- if row_count == 0 and not node.meta.get('allow_empty', false) -%}
                    {%- do problems.append(
                        "raw table '" ~ node.name ~ "' at " ~ location ~ " is empty (0 rows); "
                        ~ "an empty export usually means a failed extract") -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Raw data check failed:\n  - " ~ (problems | join("\n  - "))
            ~ "\nSet RAW_DATA_DIR to the folder holding one <table>.parquet (or one "
            ~ "<table>/load_date=YYYY-MM-DD/ folder per load) per raw table "
            ~ "(now: " ~ env_var('RAW_DATA_DIR', 'data/raw') ~ "), or make demo data with "
            ~ "`python scripts/generate_data.py --customers 10000 --days 365 --seed 42 "
            ~ "--out data/raw`.") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{#
    The columns of a raw table's files, {name: type as the engine spells
    it}, and its number of rows (from the files' metadata where the engine
    has it).
#}
{% macro raw_column_types(files) -%}
    {{ return(adapter.dispatch('raw_column_types', 'privacy_segmentation')(files)) }}
{%- endmacro %}

{% macro default__raw_column_types(files) -%}
    {%- set described = run_query(
        "select column_name, column_type from "
        ~ "(describe select * from read_parquet('" ~ files.glob ~ "'))") -%}
    {{ return(dict(zip(described.columns[0].values(), described.columns[1].values()))) }}
{%- endmacro %}

{% macro spark__raw_column_types(files) -%}
    {%- set described = run_query("describe " ~ files.view) -%}
    {{ return(dict(zip(described.columns[0].values(), described.columns[1].values()))) }}
{%- endmacro %}

{% macro raw_row_count(files) -%}
    {{ return(adapter.dispatch('raw_row_count', 'privacy_segmentation')(files)) }}
{%- endmacro %}

{% macro default__raw_row_count(files) -%}
    {{ return(run_query("select coalesce(sum(num_rows), 0) from parquet_file_metadata('"
        ~ files.glob ~ "')").columns[0].values()[0]) }}
{%- endmacro %}

{% macro spark__raw_row_count(files) -%}
    {{ return(run_query("select count(*) from " ~ files.view).columns[0].values()[0]) }}
{%- endmacro %}
