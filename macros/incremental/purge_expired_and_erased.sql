{#
    post-hook of the incremental pseudonymized tables dated by their
    within_retention column (orders, email events and sends, web events,
    consent events): delete
    the rows a full refresh would not hold any more.
    - Rows of an erased subject: `subject_column` is the pseudonym of an id
      with an accepted erasure request (erased_customer_ids). Staging drops
      such a subject's rows, but an incremental table keeps what it holds, so
      it must delete them on the very run after the request; only the
      erased ids (a handful) are hashed.
    - Rows older than the retention policy the model's within_retention
      test checks (retention_declaration), on every run, as_of moving;
      not with expire=false (int_customers_pseudonymized: one row per
      customer, no retention date).
    The pipeline's compaction (checkpoint_database) then removes the
    deleted bytes from the file. On Spark the table is written again without
    them (delete_where).
#}
{% macro purge_expired_and_erased(subject_column='customer_key', expire=true) -%}
    {%- set expired_or_erased -%}
        {{ subject_column }} in (
            select {{ pseudonymize('customer', 'erased.customer_id') }}
            from ({{ erased_customer_ids() }}) as erased
        )
        {%- if expire %}
        {%- set declared = retention_declaration() %}
        or {{ declared.date_column }} < {{ retention_start(declared.data_category) }}
        {%- endif %}
    {%- endset -%}
    {{ delete_where(this, expired_or_erased) }}
{%- endmacro %}
