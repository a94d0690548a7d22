{#
    Predicate: `column` is not NULL and no row of `source` (filtered by
    `filter`, a predicate over its unqualified columns) has it as
    `key_column`; NULL keys in `source` are ignored. For the purges' "no
    longer has a parent" predicates, which an OR or delete_where's coalesce
    wraps.
#}
{% macro absent_from(column, source, key_column, filter=none) -%}
    {{ return(adapter.dispatch('absent_from', 'privacy_segmentation')(
        column, source, key_column, filter)) }}
{%- endmacro %}

{% macro default__absent_from(column, source, key_column, filter) -%}
    ({{ column }} is not null and {{ column }} not in (
        select {{ key_column }}
        from {{ source }}
        where {{ key_column }} is not null{% if filter %} and ({{ filter }}){% endif %}
    ))
{%- endmacro %}

{#- Spark plans `x not in (subquery)` anywhere but a WHERE's top-level conjunct (inside
    an OR, a CASE or a coalesce) as a null-aware existence join: a nested loop over
    every row and every key (hours at 100k customers). NOT EXISTS over an equality is a
    hash join; with the NULLs excluded on both sides it selects the same rows. The keys
    are renamed so that an unqualified `column` names the outer row's column. #}
{% macro spark__absent_from(column, source, key_column, filter) -%}
    ({{ column }} is not null and not exists (
        select 1
        from (
            select {{ key_column }} as absent_from_key
            from {{ source }}
            where {{ key_column }} is not null{% if filter %} and ({{ filter }}){% endif %}
        ) as absent_from_keys
        where absent_from_keys.absent_from_key = {{ column }}
    ))
{%- endmacro %}
