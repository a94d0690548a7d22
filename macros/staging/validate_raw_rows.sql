{#
    Validation of one raw table, in two steps (the checks are those of
    raw_table_spec(table)):

    typed_raw_rows(table): the incremental model typed_<source>__<table>.
    Reads each raw file once: one row per raw row with the typed columns
    (named as in the raw table), `_source_file` (basename, or path below the
    table's folder), `_source_file_size`, `_source_file_modified`,
    `_source_row_number`, `_raw_id` (the raw primary key text, kept only
    when it does not parse as the key's type: otherwise the typed key says
    the same, and no id is stored twice),
    `_row_fingerprint`, and the first failing check a row fails on its own:
    `_row_reason` (null_id, missing_required, wrong_type,
    unparseable_timestamp) or, after future_timestamp, `_value_reason`
    (non_numeric_amount, negative_amount, unknown_enum). On an incremental
    run it reads only the files it has not read with this size and
    modification time (raw_files_forget has removed the rows of files that
    changed or went away).

    validate_raw_rows(table): the view base_<source>__<table>, over the
    typed rows. A tombstone (`_erased`, left by purge_erased_raw_rows for an
    erased subject's row) keeps the reason it had, `_erased_reason`, and
    takes no part in the duplicate rule. `_reject_reason` is NULL for a valid row and otherwise the
    FIRST failing check, in this fixed order:

        null_id, missing_required, wrong_type, unparseable_timestamp,
        future_timestamp, non_numeric_amount, negative_amount, unknown_enum,
        orphan_fk, duplicate_id

    future_timestamp depends on the run's as_of, orphan_fk and duplicate_id
    on other rows (of any load): those are decided here, on typed columns,
    with no raw text parsed again. A `stg_` model keeps the rows whose reason
    is NULL; the quarantine model keeps the others. So no row crashes the
    build and none silently vanishes.

    foreign_keys maps a column to the parent's base_ model (same column
    name): a row is an orphan when no VALID parent row has its key. Checking
    against the base model, not the stg_ model, keeps erasure (which stg_
    models apply) from turning an erased customer's orders into orphans.

    Duplicates (same primary key among otherwise valid rows) are resolved by
    a deterministic rule: the row with the latest `dedupe_by` value wins,
    ties broken by the smallest fingerprint of the row's raw text (macro
    row_fingerprint: an integer, cheap to sort, and the same on every
    engine), so the winner never depends on file order, on which load a row
    came in, or on the engine. The others are `duplicate_id`.
#}
{% macro raw_table_checked_spec(table) -%}
    {%- set spec = raw_table_spec(table) -%}
    {%- set columns = spec.columns -%}
    {%- if spec.primary_key not in columns -%}
        {{ exceptions.raise_compiler_error(
            "raw_table_spec('" ~ table ~ "'): primary_key '" ~ spec.primary_key
            ~ "' is not in columns " ~ (columns.keys() | list)) }}
    {%- endif -%}
    {%- set checked_columns = [spec.timestamp_column] + spec.amount_columns + spec.required
        + (spec.accepted_values.keys() | list) + (spec.foreign_keys.keys() | list)
        + [spec.dedupe_by] -%}
    {%- for column in checked_columns if column is not none and column not in columns -%}
        {{ exceptions.raise_compiler_error(
            "raw_table_spec('" ~ table ~ "'): column '" ~ column
            ~ "' is checked but not declared in columns " ~ (columns.keys() | list)) }}
    {%- endfor -%}
    {{ return(spec) }}
{%- endmacro %}

{% macro raw_source_node(table) -%}
    {%- set spec = raw_table_spec(table) -%}
    {{ return(graph.sources['source.' ~ project_name ~ '.' ~ spec.source_name ~ '.' ~ table]) }}
{%- endmacro %}

{% macro typed_raw_rows(table) -%}
    {%- set spec = raw_table_checked_spec(table) -%}
    {%- set columns = spec.columns -%}
    {#- The source, for lineage and the raw data check; the files come from raw_table_files. #}
    {%- set source_relation = source(spec.source_name, table) -%}
    {%- set typed_columns = [] -%}
    {%- for column, data_type in columns.items() if data_type | lower != 'varchar' -%}
        {%- do typed_columns.append(column) -%}
    {%- endfor -%}
    {%- set files = raw_table_files(raw_source_node(table)) if execute
        else {'glob': '', 'prefix': '', 'layout': 'missing'} -%}
    {%- set to_read = [] -%}
    {%- if execute and files.layout != 'missing' -%}
        {%- if is_incremental() -%}
            {%- set unread = run_query(
                "select listing.file from (" ~ raw_file_listing(files) ~ ") as listing "
                ~ "where (listing.source_file, listing.source_file_size, "
                ~ "listing.source_file_modified) not in (select distinct _source_file, "
                ~ "_source_file_size, _source_file_modified from " ~ this ~ ") "
                ~ "order by listing.file") -%}
            {%- for row in unread.rows -%}
                {%- do to_read.append(row[0]) -%}
            {%- endfor -%}
            {%- do log(this.identifier ~ ": " ~ (to_read | length) ~ " new or changed raw file(s)",
                info=true) -%}
        {%- else -%}
            {%- do to_read.append(files.glob) -%}
        {%- endif -%}
    {%- endif -%}

with

{#- Nothing new to read: the first file's columns, no rows (the same query either way). #}
{%- set read_all = to_read | length > 0 -%}
{%- if not read_all and execute and files.layout != 'missing' -%}
    {%- set first = run_query("select file from (" ~ raw_file_listing(files)
        ~ ") order by file limit 1").rows -%}
    {%- for row in first -%}
        {%- do to_read.append(row[0]) -%}
    {%- endfor -%}
{%- endif %}
listing as (
    {{ raw_file_listing(files) }}
),

source_rows as (
    {{ raw_rows_read(files, to_read, read_all) }}
),

typed as (
    select
        {#- file name and row number identify a row even when its id is blank #}
        listing.source_file as _source_file,
        listing.source_file_size as _source_file_size,
        listing.source_file_modified as _source_file_modified,
        source_rows.file_row_number as _source_row_number,
        cast(source_rows.{{ spec.primary_key }} as string) as _raw_id,
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
    inner join listing
        on source_rows.filename = listing.file
),

checked as (
    select
        typed.*,
        case
            when typed._raw_id is null or trim(typed._raw_id) = '' then 'null_id'
            {%- for column in spec.required %}
            when typed.{{ column }}{{ '__raw' if column in typed_columns }} is null
                then 'missing_required'
            {%- endfor %}
            {%- for column in typed_columns
                if column != spec.timestamp_column and column not in spec.amount_columns %}
            when typed.{{ column }}__raw is not null and typed.{{ column }} is null
                then 'wrong_type'
            {%- endfor %}
            {%- if spec.timestamp_column is not none %}
            when typed.{{ spec.timestamp_column }}__raw is not null
                and typed.{{ spec.timestamp_column }} is null
                then 'unparseable_timestamp'
            {%- endif %}
        end as _row_reason,
        case
            {%- for column in spec.amount_columns %}
            when typed.{{ column }}__raw is not null and typed.{{ column }} is null
                then 'non_numeric_amount'
            {%- endfor %}
            {%- for column in spec.amount_columns %}
            when typed.{{ column }} < 0 then 'negative_amount'
            {%- endfor %}
            {%- for column, values in spec.accepted_values.items() %}
            when typed.{{ column }} not in (
                {%- for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor -%}
            ) then 'unknown_enum'
            {%- endfor %}
            {#- a CASE needs one WHEN: a table with none of these checks #}
            when false then 'none'
        end as _value_reason
    from typed
),

final as (
    select
        {%- for column in columns %}
        checked.{{ column }},
        {%- endfor %}
        checked._source_file,
        checked._source_file_size,
        checked._source_file_modified,
        checked._source_row_number,
        case
            when checked.{{ spec.primary_key }} is null then checked._raw_id
        end as _raw_id,
        checked._row_fingerprint,
        checked._row_reason,
        checked._value_reason,
        false as _erased,
        cast(null as string) as _erased_reason
    from checked
)

select * from final
{%- endmacro %}

{#
    pre-hook of every typed_ model (folder config): on an incremental run,
    remove the rows of raw files that changed (size or modification time)
    or are gone since they were read, saying which, so typed_raw_rows reads
    a changed file again. What such a file fed downstream is rebuilt by the
    models reading it (see docs/performance.md, "Incremental runs").
#}
{% macro raw_files_forget() -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- for name in ['customers', 'products', 'orders', 'order_items', 'web_events', 'campaigns',
        'email_events', 'consent_events', 'preferences', 'erasure_requests']
        if raw_table_spec(name).typed_model == this.identifier -%}
        {%- set files = raw_table_files(raw_source_node(name)) -%}
        {%- set stale = run_query(
            "select distinct loaded._source_file, listing.source_file is not null as present, "
            ~ "listing.file "
            ~ "from " ~ this ~ " as loaded left join (" ~ raw_file_listing(files) ~ ") as listing "
            ~ "on listing.source_file = loaded._source_file "
            ~ "where listing.source_file is null "
            ~ "or listing.source_file_size <> loaded._source_file_size "
            ~ "or listing.source_file_modified <> loaded._source_file_modified "
            ~ "order by 1") -%}
        {%- for row in stale.rows -%}
            {%- do log(this.identifier ~ ": raw file " ~ name ~ "/" ~ row[0] ~ " "
                ~ ("changed since it was read: reading it again" if row[1]
                    else "is gone: its rows leave the warehouse")
                ~ "; what it fed is rebuilt", info=true) -%}
        {%- endfor -%}
        {%- if stale.rows | length > 0 -%}
            {#- Recorded for this run: incremental models downstream rebuild what the files
                fed (raw_files_changed_this_run). File names only. A single file is a full
                export rewritten every day, which is how that layout delivers new rows: it
                is recorded only when a row read before is no longer in it (removed or
                altered, by row fingerprint); an export that only added rows leaves the
                late-data windows to cover them. #}
            {%- set changed = [] -%}
            {%- for row in stale.rows -%}
                {%- if files.layout != 'single' or not row[1] -%}
                    {%- do changed.append(row) -%}
                {%- else -%}
                    {%- set lost = run_query(
                        "select count(*) from " ~ this ~ " as loaded where loaded._source_file = '"
                        ~ (row[0] | replace("'", "''")) ~ "' and loaded._row_fingerprint not in ("
                        ~ "select " ~ row_fingerprint(raw_table_spec(name).columns | list,
                            'rewritten')
                        ~ " from " ~ raw_file_rows(files, row[2])
                        ~ " as rewritten)").rows[0][0] -%}
                    {%- if lost > 0 -%}
                        {%- do log(this.identifier ~ ": raw file " ~ name ~ "/" ~ row[0]
                            ~ " no longer holds rows read before; what it fed is rebuilt",
                            info=true) -%}
                        {%- do changed.append(row) -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if changed | length > 0 -%}
            {%- set changes = run_query(
                "create table if not exists " ~ this.schema ~ ".raw_file_changes ("
                ~ "invocation_id string, raw_table string, source_file string, "
                ~ "change string)") -%}
            {%- for row in changed -%}
                {%- do run_query("insert into " ~ this.schema ~ ".raw_file_changes values ('"
                    ~ invocation_id ~ "', '" ~ name ~ "', '" ~ (row[0] | replace("'", "''"))
                    ~ "', '" ~ ("changed" if row[1] else "deleted") ~ "')") -%}
            {%- endfor -%}
            {%- endif -%}
            {%- set stale_files = [] -%}
            {%- for row in stale.rows -%}
                {%- do stale_files.append(row[0]) -%}
            {%- endfor -%}
            {{ return(adapter.dispatch('raw_files_forget_rows', 'privacy_segmentation')(
                files, stale_files)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('select 1') }}
{%- endmacro %}

{# The pre-hook's SQL removing the rows of the raw files changed or gone since they were read. #}
{% macro default__raw_files_forget_rows(files, stale_files) -%}
    {{ return("delete from " ~ this ~ " where _source_file in ("
        ~ "select loaded._source_file from " ~ this ~ " as loaded left join ("
        ~ raw_file_listing(files) ~ ") as listing "
        ~ "on listing.source_file = loaded._source_file "
        ~ "where listing.source_file is null "
        ~ "or listing.source_file_size <> loaded._source_file_size "
        ~ "or listing.source_file_modified <> loaded._source_file_modified)") }}
{%- endmacro %}

{#
    Spark (plain Parquet, no DELETE): a typed_ table has a partition per source
    file (dbt_project.yml), so a file's rows leave with its partition, dropped
    here with its files. A changed file is read again by this run, whose
    insert_overwrite writes its partition anew.
#}
{% macro spark__raw_files_forget_rows(files, stale_files) -%}
    {%- for file in stale_files -%}
        {%- call statement('raw_files_forget_' ~ loop.index) -%}
            alter table {{ this }} drop if exists
            partition (_source_file = '{{ file | replace("\\", "\\\\") | replace("'", "\\'") }}')
        {%- endcall -%}
    {%- endfor -%}
    {{ return('select 1') }}
{%- endmacro %}

{# A relation of the rows of one raw file (`path` as raw_file_listing lists it). #}
{% macro raw_file_rows(files, path) -%}
    {{ return(adapter.dispatch('raw_file_rows', 'privacy_segmentation')(files, path)) }}
{%- endmacro %}

{% macro default__raw_file_rows(files, path) -%}
    read_parquet('{{ path | replace("'", "''") }}', hive_partitioning = false)
{%- endmacro %}

{% macro spark__raw_file_rows(files, path) -%}
    (select * from {{ files.view }} where _source_file_path = '{{ path | replace("'", "\\'") }}')
{%- endmacro %}

{% macro validate_raw_rows(table) -%}
    {%- set spec = raw_table_checked_spec(table) -%}
    {%- set columns = spec.columns -%}
    {%- set order_by = spec.dedupe_by if spec.dedupe_by is not none
        else spec.timestamp_column -%}

with

typed_rows as (
    select * from {{ ref(spec.typed_model) }}
),

checked as (
    select
        typed_rows.*,
        case
            when typed_rows._erased then typed_rows._erased_reason
            else coalesce(
                typed_rows._row_reason,
                {%- if spec.timestamp_column is not none %}
                case
                    when typed_rows.{{ spec.timestamp_column }}
                        >= {{ as_of_date() }} + interval 1 day
                        then 'future_timestamp'
                end,
                {%- endif %}
                typed_rows._value_reason,
                case
                    {%- for column, parent in spec.foreign_keys.items() %}
                    when typed_rows.{{ column }} is not null
                        and known_{{ loop.index }}.{{ column }} is null
                        then 'orphan_fk'
                    {%- endfor %}
                    when false then 'none'
                end
            )
        end as _check_reason
    from typed_rows
    {#- A left join to the parent's valid keys, not `not in (subquery)`: inside a CASE,
        Spark plans NOT IN as a nested loop over both tables (a 100k-customer build spent
        15 minutes on one table). Valid parent keys are never NULL (a NULL id is rejected as
        null_id or wrong_type), so the join means what NOT IN means. #}
    {%- for column, parent in spec.foreign_keys.items() %}
    left join (
        select distinct {{ column }}
        from {{ ref(parent) }}
        where _reject_reason is null and {{ column }} is not null
    ) as known_{{ loop.index }}
        on typed_rows.{{ column }} = known_{{ loop.index }}.{{ column }}
    {%- endfor %}
),

deduplicated as (
    select
        checked.*,
        case
            when checked._check_reason is not null or checked._erased
                then checked._check_reason
            when row_number() over (
                partition by
                    checked._check_reason is null and not checked._erased,
                    checked.{{ spec.primary_key }}
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
        coalesce(
            deduplicated._raw_id, cast(deduplicated.{{ spec.primary_key }} as string)
        ) as _raw_id,
        deduplicated._reject_reason
    from deduplicated
)

select * from final
{%- endmacro %}

{#
    True when a typed_ model of this run found a raw file changed or deleted
    since it was read (raw_files_forget records them in
    staging.raw_file_changes): an incremental model downstream then rebuilds
    everything instead of its late-data window, since what the file fed may
    be older than the window.
    The log table is looked up in the catalog, not in dbt's relation cache:
    the first change ever creates it during the run, after the cache was
    filled, and a cached lookup would miss it (the run would keep its
    window).
#}
{% macro raw_files_changed_this_run() -%}
    {%- if not execute or not raw_file_changes_exists() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from staging.raw_file_changes"
        ~ " where invocation_id = '" ~ invocation_id ~ "'").rows[0][0] -%}
    {{ return(found > 0) }}
{%- endmacro %}

{# Whether staging.raw_file_changes exists, asked of the catalog (raw_files_changed_this_run). #}
{% macro raw_file_changes_exists() -%}
    {{ return(adapter.dispatch('raw_file_changes_exists', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__raw_file_changes_exists() -%}
    {{ return(run_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and table_schema = 'staging' and table_name = 'raw_file_changes'"
    ).rows[0][0] > 0) }}
{%- endmacro %}

{% macro spark__raw_file_changes_exists() -%}
    {{ return(run_query("show tables in staging like 'raw_file_changes'").rows | length > 0) }}
{%- endmacro %}
