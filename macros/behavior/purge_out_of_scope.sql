{#
    post-hook of every incremental event fact (folder config) and of
    fct_customer_behavior_aggregates: delete the rows a full refresh would
    not hold any more.
    - Subjects out of scope of the model's consent purpose as of the run
      (int_consented_subjects): a withdrawal, an expired policy version or
      an erasure (an erased subject has no consent state at all) removes
      every row of the subject on the next run.
    - Rows older than the retention policy the model's within_retention
      test checks (its column and data_category).
    Both come from what the model declares (event_fact_declaration). The
    pipeline's compaction then removes the deleted bytes from the file.
#}
{% macro purge_out_of_scope(subject_column='customer_key') -%}
    {%- set declared = event_fact_declaration() -%}
    {%- set predicate -%}
        {{ absent_from(subject_column, ref('int_consented_subjects'), 'customer_key',
            "consent_purpose = '" ~ declared.purpose ~ "'") }}
        or {{ declared.date_column }} < {{ retention_start(declared.data_category) }}
    {%- endset -%}
    {{ delete_where(this, predicate) }}
{%- endmacro %}
