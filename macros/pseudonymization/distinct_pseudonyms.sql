{#
    A select of each distinct non-NULL id in `relation` with its pseudonym:
    (<id_column>, <entity>_key). Hashing each distinct id once and joining
    back is cheaper than hashing every event row (HMAC is the costly part:
    see docs/performance.md, Where the time goes).
#}
{% macro distinct_pseudonyms(entity, relation, id_column) -%}
    select
        distinct_ids.{{ id_column }},
        {{ pseudonymize(entity, 'distinct_ids.' ~ id_column) }} as {{ entity }}_key
    from (
        select distinct {{ id_column }}
        from {{ relation }}
        where {{ id_column }} is not null
    ) as distinct_ids
{%- endmacro %}
