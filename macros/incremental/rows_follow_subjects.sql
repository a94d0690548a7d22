{#
    post-hook of an incremental model loaded by subject (delete+insert by
    customer_key, int_consent_intervals): delete the rows of subjects that
    no longer have a row in `parent`. delete+insert replaces only the
    subjects a run loads again, and a subject whose upstream rows are all
    gone (an erasure, the retention purge of their last rows) has none to
    load: without this delete their rows would stay.
#}
{% macro rows_follow_subjects(parent, subject_column='customer_key') -%}
    {%- set without_parent_rows -%}
        {{ absent_from(subject_column, parent, subject_column) }}
    {%- endset -%}
    {{ delete_where(this, without_parent_rows) }}
{%- endmacro %}
