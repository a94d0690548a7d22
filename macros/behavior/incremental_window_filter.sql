{#
    Predicate for the rows an incremental behavioural fact inserts: on an
    incremental run, rows newer than the newest row left after
    incremental_window_delete, plus every row of a subject in scope who has
    no row in the table yet (a new grant, or a grant restored after a
    withdrawal purged them): their whole retained history is backfilled,
    so an incremental table equals a full refresh. On a full refresh, true.
    `relation_alias` is the alias of the upstream relation in the model's
    final select; both columns have the same name in the model.
#}
{% macro incremental_window_filter(relation_alias, date_column, subject_column='customer_key') -%}
    {%- if is_incremental() -%}
    (
        {{ relation_alias }}.{{ date_column }} > (
            select coalesce(max(loaded.{{ date_column }}), date '0001-01-01') from {{ this }} as loaded
        )
        or {{ relation_alias }}.{{ subject_column }} not in (
            select loaded.{{ subject_column }} from {{ this }} as loaded
        )
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
