{#
    Type and validate one raw table, keeping every row.

    Returns a query with one row per raw row: the typed columns (named as in
    the raw table), `_source_file`, `_source_row_number`, `_raw_id` (the raw
    primary key text) and `_reject_reason`, which is NULL for a valid row and
    otherwise the FIRST failing check, in this fixed order:

        null_id, missing_required, wrong_type, unparseable_timestamp,
        future_timestamp, non_numeric_amount, negative_amount, unknown_enum,
        orphan_fk, duplicate_id

    A `stg_` model keeps the rows whose reason is NULL; the quarantine model
    keeps the others. So no row crashes the build and none silently vanishes.

    foreign_keys maps a column to the parent's base_ model (same column
    name): a row is an orphan when no VALID parent row has its key. Checking
    against the base model, not the stg_ model, keeps erasure (which stg_
    models apply) from turning an erased customer's orders into orphans.

    Duplicates (same primary key among otherwise valid rows) are resolved by
    a deterministic rule: the row with the latest `dedupe_by` value wins,
    ties broken by the smallest hash of the row's raw text (DuckDB's 64-bit
    `hash`: cheap to sort, unlike an md5 string), so the winner never
    depends on file order. The others are `duplicate_id`.
#}
{% macro validate_raw_rows(
    source_relation,
    primary_key,
    columns,
    required=[],
    timestamp_column=none,
    amount_columns=[],
    accepted_values={},
    foreign_keys={},
    dedupe_by=none
) -%}
    {%- if primary_key not in columns -%}
        {{ exceptions.raise_compiler_error(
            "validate_raw_rows: primary_key '" ~ primary_key ~ "' is not in columns "
            ~ (columns.keys() | list) ~ " for " ~ source_relation) }}
    {%- endif -%}
    {%- set checked_columns = [timestamp_column] + amount_columns + required
        + (accepted_values.keys() | list) + (foreign_keys.keys() | list) + [dedupe_by] -%}
    {%- for column in checked_columns if column is not none and column not in columns -%}
        {{ exceptions.raise_compiler_error(
            "validate_raw_rows: column '" ~ column ~ "' is checked but not declared in columns "
            ~ (columns.keys() | list) ~ " for " ~ source_relation) }}
    {%- endfor -%}
    {%- set typed_columns = [] -%}
    {%- for column, data_type in columns.items() if data_type | lower != 'varchar' -%}
        {%- do typed_columns.append(column) -%}
    {%- endfor -%}
    {%- set order_by = dedupe_by if dedupe_by is not none else timestamp_column -%}

with

source_rows as (
    select * from {{ source_relation }}
),

typed as (
    select
        {#- file name and row number identify a row even when its id is blank #}
        regexp_extract(source_rows.filename, '[^/\\]+$') as _source_file,
        source_rows.file_row_number as _source_row_number,
        cast(source_rows.{{ primary_key }} as varchar) as _raw_id,
        {{ row_fingerprint(columns | list, 'source_rows') }} as _row_fingerprint,
        {%- for column, data_type in columns.items() %}
        {%- if column in typed_columns %}
        nullif(trim(source_rows.{{ column }}), '') as {{ column }}__raw,
        {{ parse_text('source_rows.' ~ column, data_type) }}
            as {{ column }}{{ ',' if not loop.last }}
        {%- else %}
        nullif(trim(source_rows.{{ column }}), '') as {{ column }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from source_rows
),

checked as (
    select
        typed.*,
        case
            when typed._raw_id is null or trim(typed._raw_id) = '' then 'null_id'
            {%- for column in required %}
            when typed.{{ column }}{{ '__raw' if column in typed_columns }} is null
                then 'missing_required'
            {%- endfor %}
            {%- for column in typed_columns
                if column != timestamp_column and column not in amount_columns %}
            when typed.{{ column }}__raw is not null and typed.{{ column }} is null
                then 'wrong_type'
            {%- endfor %}
            {%- if timestamp_column is not none %}
            when typed.{{ timestamp_column }}__raw is not null
                and typed.{{ timestamp_column }} is null
                then 'unparseable_timestamp'
            when typed.{{ timestamp_column }} >= {{ as_of_date() }} + interval 1 day
                then 'future_timestamp'
            {%- endif %}
            {%- for column in amount_columns %}
            when typed.{{ column }}__raw is not null and typed.{{ column }} is null
                then 'non_numeric_amount'
            {%- endfor %}
            {%- for column in amount_columns %}
            when typed.{{ column }} < 0 then 'negative_amount'
            {%- endfor %}
            {%- for column, values in accepted_values.items() %}
            when typed.{{ column }} not in (
                {%- for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor -%}
            ) then 'unknown_enum'
            {%- endfor %}
            {%- for column, parent in foreign_keys.items() %}
            when typed.{{ column }} is not null
                and typed.{{ column }} not in (
                    select {{ column }} from {{ parent }} where _reject_reason is null
                )
                then 'orphan_fk'
            {%- endfor %}
        end as _check_reason
    from typed
),

deduplicated as (
    select
        checked.*,
        case
            when checked._check_reason is not null then checked._check_reason
            when row_number() over (
                partition by checked._check_reason is null, checked.{{ primary_key }}
                order by
                    {%- if order_by is not none %}
                    checked.{{ order_by }} desc nulls last,
                    {%- endif %}
                    checked._row_fingerprint
            ) > 1 then 'duplicate_id'
        end as _reject_reason
    from checked
),

final as (
    select
        {%- for column in columns %}
        deduplicated.{{ column }},
        {%- endfor %}
        deduplicated._source_file,
        deduplicated._source_row_number,
        deduplicated._raw_id,
        deduplicated._reject_reason
    from deduplicated
)

select * from final
{%- endmacro %}
