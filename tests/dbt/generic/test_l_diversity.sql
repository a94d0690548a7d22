{#
    l-diversity of a sensitive attribute (invariant 9): every equivalence
    class (rows sharing the values of all quasi-identifiers) is as diverse
    in it as declared, so that knowing someone's class does not reveal
    their value with high confidence. The kind is the model's
    meta.privacy.diversity {kind, l, c} (declared_diversity(); default
    recursive (c=9, l=2): the most frequent value holds less than 90% of
    every class): distinct (at least l values), entropy (at least l values
    and an entropy of at least ln l) or recursive (c,l)-diversity (at least
    l values, and the most frequent one's count below c times the records
    outside the l-1 most frequent). NULL is a value like any other: an
    attacker who learns that it is missing has learned it.
    The sensitive attribute, the quasi-identifiers and the diversity are
    the tested model's declaration (published_privacy); arguments are for a
    model that declares nothing (a fixture): the privacy post-hook refuses
    them on a published model.
    Fails with one row per shape of failing class: its size, its number of
    distinct values and the records of its most frequent value, how many
    classes and records have that shape, and the rule they fail. Never the
    values themselves.
#}
{% test l_diversity(model, column_name=none, quasi_identifiers=none, diversity=none) %}
{%- set settings = privacy_test_settings('l_diversity', model, {
    'sensitive_attribute': column_name,
    'quasi_identifiers': quasi_identifiers,
    'diversity': declared_diversity(diversity, 'l_diversity on ' ~ model ~ ': ')
        if diversity is not none else none,
}) %}
{%- set quasi_identifiers = settings.quasi_identifiers | join(', ') %}

with

class_values as (
    select
        {{ quasi_identifiers }},
        {{ settings.sensitive_attribute }},
        count(*) as value_records
    from {{ model }}
    group by {{ quasi_identifiers }}, {{ settings.sensitive_attribute }}
),

values_ranked as (
    select
        class_values.*,
        row_number() over (
            partition by {{ quasi_identifiers }} order by value_records desc
        ) as value_rank
    from class_values
),

equivalence_classes as (
    select
        {{ diversity_measures('value_records', 'value_rank', settings.diversity.l) }}
    from values_ranked
    group by {{ quasi_identifiers }}
),

validation_errors as (
    select
        class_records as class_size,
        sensitive_values,
        top_value_records,
        count(*) as classes,
        sum(class_records) as records,
        '{{ settings.diversity.label }}' as diversity
    from equivalence_classes
    where not {{ diversity_holds(settings.diversity) }}
    group by class_records, sensitive_values, top_value_records
)

select * from validation_errors
{% endtest %}
