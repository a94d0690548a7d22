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

{#
    Where a raw table's files are, in either layout (the one place that
    decides the glob): returns {'glob': ..., 'prefix': ..., 'layout': ...}.

        single       RAW_DATA_DIR/<table>.parquet, one file
        folder       RAW_DATA_DIR/<table>.parquet/**/*.parquet
        partitioned  RAW_DATA_DIR/<table>/load_date=YYYY-MM-DD/*.parquet
                     (any folders below <table>/)
        missing      none of these (glob is the single file's path)

    `prefix` is what is cut from a file's path to name it in the warehouse
    (the basename for a single file, the path below the table's folder
    otherwise): a moved RAW_DATA_DIR keeps the names. Both layouts at once
    is an error: which one holds the truth is not for the build to guess.
#}
{% macro raw_table_files(source_node) -%}
    {{ return(adapter.dispatch('raw_table_files', 'privacy_segmentation')(source_node)) }}
{%- endmacro %}

{% macro default__raw_table_files(source_node) -%}
    {%- set path = raw_table_path(source_node) -%}
    {%- set folder = path[:-8] if path.endswith('.parquet') else path ~ '_files' -%}
    {%- if not execute -%}
        {{ return({'glob': path, 'prefix': '', 'layout': 'single'}) }}
    {%- endif -%}
    {%- set found = run_query(
        "select (select count(*) from glob('" ~ path ~ "')), "
        ~ "(select count(*) from glob('" ~ path ~ "/**/*.parquet')), "
        ~ "(select count(*) from glob('" ~ folder ~ "/**/*.parquet'))").rows[0] -%}
    {%- if (found[0] > 0 or found[1] > 0) and found[2] > 0 -%}
        {{ exceptions.raise_compiler_error(
            "raw table '" ~ source_node.name ~ "' is in both layouts: " ~ path
            ~ " and " ~ folder ~ "/; keep one (move the other out of RAW_DATA_DIR)") }}
    {%- elif found[0] > 0 -%}
        {{ return({'glob': path, 'prefix': '', 'layout': 'single'}) }}
    {%- elif found[1] > 0 -%}
        {{ return({'glob': path ~ '/**/*.parquet', 'prefix': path ~ '/', 'layout': 'folder'}) }}
    {%- elif found[2] > 0 -%}
        {{ return({'glob': folder ~ '/**/*.parquet', 'prefix': folder ~ '/',
            'layout': 'partitioned'}) }}
    {%- endif -%}
    {{ return({'glob': path, 'prefix': '', 'layout': 'missing'}) }}
{%- endmacro %}

{#
    On Spark, which has no glob(): the launcher (scripts/spark_build.py,
    privseg.spark.raw) found the layout with Spark's reader, by the same
    rules, and registered the view privseg_raw_<table> over the files;
    `glob` is that view. The location it looked at must be the sources'.
#}
{% macro spark__raw_table_files(source_node) -%}
    {%- set path = raw_table_path(source_node) -%}
    {%- set view = 'privseg_raw_' ~ source_node.identifier -%}
    {%- if not execute -%}
        {{ return({'glob': path, 'prefix': '', 'layout': 'single', 'view': view}) }}
    {%- endif -%}
    {%- if run_query("show views like 'privseg_raw_layouts'").rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "no raw tables in this Spark session: run dbt on Spark through "
            ~ "scripts/spark_build.py, which registers them (docs/spark.md)") }}
    {%- endif -%}
    {%- set found = run_query("select layout, location from privseg_raw_layouts "
        ~ "where raw_table = '" ~ source_node.identifier ~ "'").rows -%}
    {%- if found | length == 0 or found[0][1] != path -%}
        {{ exceptions.raise_compiler_error(
            "raw table '" ~ source_node.name ~ "': the Spark session's raw views were not "
            ~ "registered from " ~ path ~ " (run scripts/spark_build.py with this RAW_DATA_DIR)") }}
    {%- elif found[0][0] == 'both' -%}
        {{ exceptions.raise_compiler_error(
            "raw table '" ~ source_node.name ~ "' is in both layouts: " ~ path
            ~ " and " ~ path[:-8] ~ "/; keep one (move the other out of RAW_DATA_DIR)") }}
    {%- endif -%}
    {%- set layout = 'missing' if found[0][0] == 'missing'
        else ('partitioned' if found[0][0] == 'partitioned' else 'single') -%}
    {{ return({'glob': path, 'prefix': '', 'layout': layout, 'view': view}) }}
{%- endmacro %}

{#
    SQL listing a raw table's files: file (the path DuckDB reads), source_file
    (its name in the warehouse), size and modified (bytes and modification
    time: a file is read again when either changed). Reads no file's
    contents.
#}
{% macro raw_file_listing(files) -%}
    {{ return(adapter.dispatch('raw_file_listing', 'privacy_segmentation')(files)) }}
{%- endmacro %}

{% macro default__raw_file_listing(files) -%}
    select
        filename as file,
        {{ raw_source_file_name('filename', files.prefix) }} as source_file,
        size as source_file_size,
        last_modified as source_file_modified
    from read_blob('{{ files.glob }}')
{%- endmacro %}

{% macro raw_source_file_name(column, prefix) -%}
    {%- if prefix -%}
        replace({{ column }}, '{{ prefix }}', '')
    {%- else -%}
        regexp_extract({{ column }}, '[^/\\]+$')
    {%- endif -%}
{%- endmacro %}

{% macro spark__raw_file_listing(files) -%}
    select distinct
        _source_file_path as file,
        _source_file as source_file,
        _source_file_size as source_file_size,
        _source_file_modified as source_file_modified
    from {{ files.view }}
{%- endmacro %}

{#
    SQL reading the rows of a raw table's files `to_read` (all of them when
    read_all, else none: the columns only), with `filename` (the file's path,
    as in raw_file_listing) and `file_row_number`.
#}
{% macro raw_rows_read(files, to_read, read_all) -%}
    {{ return(adapter.dispatch('raw_rows_read', 'privacy_segmentation')(
        files, to_read, read_all)) }}
{%- endmacro %}

{% macro default__raw_rows_read(files, to_read, read_all) -%}
    select *
    from read_parquet(
        [
            {%- for file in to_read %}'{{ file | replace("'", "''") }}'
            {{- ', ' if not loop.last }}{% endfor -%}
        ],
        filename = true, file_row_number = true, hive_partitioning = false
    )
    {%- if not read_all %}
    limit 0
    {%- endif %}
{%- endmacro %}

{% macro spark__raw_rows_read(files, to_read, read_all) -%}
    select
        raw_rows.*,
        raw_rows._source_file_path as filename,
        raw_rows._source_row_number as file_row_number
    from {{ files.view }} as raw_rows
    {%- if not read_all %}
    limit 0
    {%- elif to_read != [files.glob] %}
    where raw_rows._source_file_path in (
        {%- for file in to_read %}'{{ file | replace("'", "''") }}'
        {{- ', ' if not loop.last }}{% endfor -%}
    )
    {%- endif %}
{%- endmacro %}
