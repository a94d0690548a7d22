{#
    How diverse a published sensitive attribute must be within every
    released class (invariant 9), from a declaration {kind, l, c}
    (meta.privacy.diversity of a published model, or a fixture's test
    argument), each key defaulting to its var:
    - kind 'distinct': at least l distinct values (var segments_l);
    - kind 'entropy': at least l distinct values and an entropy of the
      class's value shares of at least ln(l);
    - kind 'recursive', recursive (c,l)-diversity: at least l distinct
      values, and the count of the most frequent value r1 below c times
      the records outside the l-1 most frequent values
      (r1 < c * (r_l + ... + r_m)); with l = 2 that is a share of the most
      frequent value below c / (c + 1) (c = 9: below 90%).
    kind defaults to var segments_diversity_kind (recursive) and c to var
    segments_diversity_c (9); c applies to kind recursive only.
    `where` starts every error message (which model, which key).
    Returns {kind, l, c, label}: c a number (none unless recursive) and
    label a short text for messages and test results, e.g.
    'recursive (c=9, l=2)'.
#}
{% macro declared_diversity(declared, where) %}
    {%- set declared = {} if declared is none else declared -%}
    {%- if declared is not mapping -%}
        {{ exceptions.raise_compiler_error(
            where ~ "diversity must be a mapping {kind, l, c}, got '" ~ declared ~ "'") }}
    {%- endif -%}
    {%- set unknown = declared.keys() | reject('in', ['kind', 'l', 'c']) | list -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(
            where ~ "diversity has unknown keys " ~ (unknown | join(', '))
            ~ "; it takes kind, l and c") }}
    {%- endif -%}
    {%- set kind = declared.get('kind', var('segments_diversity_kind')) -%}
    {%- if kind not in ['distinct', 'entropy', 'recursive'] -%}
        {{ exceptions.raise_compiler_error(
            where ~ "diversity.kind must be distinct, entropy or recursive "
            ~ "(default var segments_diversity_kind), got '" ~ kind ~ "'") }}
    {%- endif -%}
    {%- set l = declared.get('l', var('segments_l')) -%}
    {%- if (l | int(-1)) < 1 or (l | float) != (l | int(-1)) -%}
        {{ exceptions.raise_compiler_error(
            where ~ "diversity.l must be a whole number of at least 1 (default var segments_l), "
            ~ "got '" ~ l ~ "'") }}
    {%- endif -%}
    {%- set c = none -%}
    {%- if kind == 'recursive' -%}
        {%- set c = declared.get('c', var('segments_diversity_c')) -%}
        {%- if (c | float(-1)) <= 0 -%}
            {{ exceptions.raise_compiler_error(
                where ~ "diversity.c must be a number above 0 (default var segments_diversity_c), "
                ~ "got '" ~ c ~ "'") }}
        {%- endif -%}
        {%- set c = c | float -%}
    {%- elif 'c' in declared -%}
        {{ exceptions.raise_compiler_error(
            where ~ "diversity.c applies to kind recursive only, not " ~ kind) }}
    {%- endif -%}
    {%- set l = l | int -%}
    {%- set label = kind ~ ' ('
        ~ ('c=' ~ ('%g' | format(c)) ~ ', ' if c is not none else '')
        ~ 'l=' ~ l ~ ')' -%}
    {{ return({'kind': kind, 'l': l, 'c': c, 'label': label}) }}
{% endmacro %}
