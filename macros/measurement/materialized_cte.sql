{#
    The keyword that makes a CTE evaluated once ('as materialized (' on
    DuckDB). Needed where a CTE draws random noise and is read twice: an
    inlined CTE would draw again at every reference.
#}
{% macro materialized_cte() %}
    {{ return(adapter.dispatch('materialized_cte')()) }}
{% endmacro %}

{% macro default__materialized_cte() %}{% endmacro %}

{% macro duckdb__materialized_cte() %}materialized{% endmacro %}

{#- Spark has no such keyword, and needs none: it keeps a CTE that is read more than once
    and not deterministic (a noise draw) as one relation, computed once (docs/spark.md). #}
{% macro spark__materialized_cte() %}{% endmacro %}
