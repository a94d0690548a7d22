{#
    Predicate: the row may be processed for `purpose` as of the run, honouring
    the purpose's legal basis in seed consent_purposes. A row of a customer
    (`customer_key_column` not NULL) needs the customer in scope of the
    purpose (int_consented_subjects: a valid grant; for a purpose resting on
    legitimate interest, whose default is granted, no objection). A row of
    anonymous traffic (NULL) has nobody whose grant could be recorded: it is
    kept only when the purpose's basis is not consent, and dropped when the
    purpose is missing from the seed (fail closed). The one place that says
    how a basis treats anonymous traffic.
#}
{% macro in_scope_of_purpose(customer_key_column, purpose) -%}
    {%- if purpose is not string or not modules.re.fullmatch('[a-z][a-z_]*', purpose) -%}
        {{ exceptions.raise_compiler_error(
            "in_scope_of_purpose(): purpose must be a consent purpose of seed "
            ~ "consent_purposes, e.g. 'contextual_advertising', got "
            ~ (purpose | string | tojson)) }}
    {%- endif -%}
    (
        ({{ customer_key_column }} is null and coalesce((
            select not {{ text_starts_with("lower(trim(purposes.legal_basis))", "'consent'") }}
            from {{ ref('consent_purposes') }} as purposes
            where purposes.consent_purpose = '{{ purpose }}'
        ), false))
        or {{ customer_key_column }} in (
            select subjects.customer_key
            from {{ ref('int_consented_subjects') }} as subjects
            where subjects.consent_purpose = '{{ purpose }}'
        )
    )
{%- endmacro %}
