{#
    post-hook of an incremental behavioural fact: delete the rows a full
    refresh would not hold any more.
    - Subjects out of scope of `purpose` as of the run (int_consented_subjects):
      a withdrawal, an expired policy version or an erasure (an erased
      subject has no consent state at all) removes every row of the
      subject on the next run.
    - Rows older than the retention policy of `data_category`.
    The pipeline's compaction then removes the deleted bytes from the file.
#}
{% macro purge_out_of_scope(purpose, date_column, data_category, subject_column='customer_key') -%}
    delete from {{ this }}
    where
        {{ subject_column }} not in (
            select subjects_in_scope.customer_key
            from {{ ref('int_consented_subjects') }} as subjects_in_scope
            where subjects_in_scope.consent_purpose = '{{ purpose }}'
        )
        or {{ date_column }} < {{ retention_start(data_category) }}
{%- endmacro %}
