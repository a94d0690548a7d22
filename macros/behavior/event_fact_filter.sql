{#
    Predicate for the rows an incremental event fact inserts, applied in
    its import CTE: rows of subjects in scope of the model's purpose as of
    the run (int_consented_subjects) and, on an incremental run, only the
    rows incremental_rows_filter lets through (newer than the newest row
    left after incremental_window_delete, or older than the oldest), plus
    every row of a subject in scope who has no row in the table yet (a new
    grant, or a grant restored after a withdrawal purged them): their whole
    retained history is backfilled, so an incremental table equals a full
    refresh. The date column and the purpose are what the model declares
    (event_fact_declaration).
    The subjects without rows are found among the subjects in scope (about
    one per customer), not among the upstream rows: an anti-join per event
    row costs twice as much at 1M customers.
    `relation_alias` is the alias of the upstream relation in the model's
    import CTE: filtering there, before any join, is about twice as cheap
    at 1M customers. Both columns have the same name in the model.
#}
{% macro event_fact_filter(relation_alias, subject_column='customer_key') -%}
    {%- set declared = event_fact_declaration() -%}
    {{ relation_alias }}.{{ subject_column }} in (
        select in_scope.customer_key
        from {{ ref('int_consented_subjects') }} as in_scope
        where in_scope.consent_purpose = '{{ declared.purpose }}'
    )
    {%- if is_incremental() and not raw_files_changed_this_run() %}
    and (
        {{ incremental_rows_filter(relation_alias ~ '.' ~ declared.date_column) }}
        or {{ relation_alias }}.{{ subject_column }} in (
            select in_scope.customer_key
            from {{ ref('int_consented_subjects') }} as in_scope
            where
                in_scope.consent_purpose = '{{ declared.purpose }}'
                and {{ absent_from('in_scope.customer_key', this, subject_column) }}
        )
    )
    {%- endif -%}
{%- endmacro %}
