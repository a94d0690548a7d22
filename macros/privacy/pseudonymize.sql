{#
    pseudonymize(entity, id_expression): SQL expression for the keyed pseudonym
        <entity>_key = lower(hex(HMAC-SHA256(key, '<entity>:' || id)))
    as 64 lowercase hex characters, e.g. pseudonymize('customer', 'customer_id')
    for customer_key. The id is rendered as text first (integer 100042 -> '100042').
    The entity is a domain separator, so pseudonyms of different entities never link.

    The key is never in SQL: the pseudonym_key plugin (plugins/pseudonym_key.py)
    binds the HMAC pads as DuckDB variables on each connection. A NULL id gives a
    NULL pseudonym; a connection without the pads fails at query time instead of
    returning NULL. getvariable() is per connection, so materialize the result
    into a table, never a view.
#}
{% macro pseudonymize(entity, id_expression) -%}
    {%- if entity is not string or not modules.re.fullmatch('[a-z][a-z_]*', entity) -%}
        {{ exceptions.raise_compiler_error(
            "pseudonymize(): entity must be a lowercase name like 'customer' or 'order_item' "
            ~ "(letters and underscores, starting with a letter), got " ~ (entity | string | tojson)
            ~ ". It becomes the hash domain '<entity>:' and the column name '<entity>_key'.") }}
    {%- endif -%}
    {%- if id_expression is not string or (id_expression | trim) == '' -%}
        {{ exceptions.raise_compiler_error(
            "pseudonymize('" ~ entity ~ "', ...): id_expression must be a SQL expression "
            ~ "as a string, e.g. pseudonymize('" ~ entity ~ "', '" ~ entity ~ "_id').") }}
    {%- endif -%}
    {{ return(adapter.dispatch('pseudonymize', 'privacy_segmentation')(entity, id_expression)) }}
{%- endmacro %}

{% macro default__pseudonymize(entity, id_expression) -%}
    {{ exceptions.raise_compiler_error(
        "pseudonymize() is not implemented for the '" ~ adapter.type() ~ "' adapter: "
        ~ "add a " ~ adapter.type() ~ "__pseudonymize macro computing "
        ~ "lower(hex(HMAC-SHA256(key, '<entity>:' || id))).") }}
{%- endmacro %}

{% macro duckdb__pseudonymize(entity, id_expression) -%}
    {#- HMAC(K, m) = sha256(opad || sha256(ipad || m)); pads set by the plugin. -#}
    case
        when
            getvariable('pseudonym_hmac_ipad') is null
            or getvariable('pseudonym_hmac_opad') is null
            then error(
                'pseudonym key not set on this DuckDB connection: set DBT_ENV_SECRET_PSEUDONYM_KEY '
                || 'and configure the pseudonym_key plugin in profiles.yml'
            )
        when ({{ id_expression }}) is null then null
        else lower(sha256(
            getvariable('pseudonym_hmac_opad')
            || unhex(sha256(
                getvariable('pseudonym_hmac_ipad')
                || encode('{{ entity }}:' || cast(({{ id_expression }}) as varchar))
            ))
        ))
    end
{%- endmacro %}

{% macro spark__pseudonymize(entity, id_expression) -%}
    {#- HMAC(K, m) = sha256(opad || sha256(ipad || m)). The pads are the temporary view
        privseg_pseudonym_pads, registered from Python by scripts/spark_build.py (never SQL
        text or a conf): without it the query fails (table or view not found), and a view
        without pads fails too (raise_error), never a NULL pseudonym. -#}
    case
        when ({{ id_expression }}) is null then null
        else sha2(concat(
            {{ spark_pseudonym_pad('opad') }},
            unhex(sha2(concat(
                {{ spark_pseudonym_pad('ipad') }},
                cast(concat('{{ entity }}:', cast(({{ id_expression }}) as string)) as binary)
            ), 256))
        ), 256)
    end
{%- endmacro %}

{% macro spark_pseudonym_pad(pad) -%}
    coalesce(
        (select pads.{{ pad }} from privseg_pseudonym_pads as pads),
        cast(raise_error(
            'pseudonym key not in this Spark session: run dbt through scripts/spark_build.py, '
            || 'which registers the key pads'
        ) as binary)
    )
{%- endmacro %}
