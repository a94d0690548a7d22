{#
    Select of the subjects in scope of the calling model's consent purpose
    (meta.privacy.consent_purpose) as of the run: one customer_key each,
    from int_consented_subjects. An incremental event fact inner-joins its
    events to it.
#}
{% macro subjects_in_scope() %}
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = '{{ event_fact_declaration().purpose }}'
{%- endmacro %}
