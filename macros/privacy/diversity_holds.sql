{#
    SQL condition: a class measured by diversity_measures() (its columns,
    prefixed with `relation.` when given) is diverse as `diversity`
    (declared_diversity()) demands. Every kind includes distinct
    l-diversity (at least l values). Entropy is compared with a tolerance of
    1e-9, so that a class split exactly evenly over l values (entropy ln(l)
    up to rounding) passes.
#}
{% macro diversity_holds(diversity, relation=none) %}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set l = diversity.l | int -%}
    ({{ prefix }}sensitive_values >= {{ l }}
    {%- if diversity.kind == 'entropy' %}
        and {{ prefix }}sensitive_entropy >= ln({{ l }}) - 1e-9
    {%- elif diversity.kind == 'recursive' %}
        and {{ prefix }}top_value_records < {{ diversity.c }} * {{ prefix }}tail_records
    {%- endif -%}
    )
{%- endmacro %}
