{#
    pseudonym_key_fingerprint(): SQL expression for the fingerprint of the
    pseudonymization key in use: the first 16 hex characters of
    HMAC-SHA256(key, 'pseudonym-key-fingerprint'), set by the pseudonym_key
    plugin. It identifies a key (same key across runs? rotated?) without
    revealing it. Fails at query time, never NULL, when the plugin did not run.
#}
{% macro pseudonym_key_fingerprint() -%}
    {{ return(adapter.dispatch('pseudonym_key_fingerprint', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__pseudonym_key_fingerprint() -%}
    {{ exceptions.raise_compiler_error(
        "pseudonym_key_fingerprint() is not implemented for the '" ~ adapter.type()
        ~ "' adapter: add a " ~ adapter.type() ~ "__pseudonym_key_fingerprint macro.") }}
{%- endmacro %}

{% macro duckdb__pseudonym_key_fingerprint() -%}
    case
        when getvariable('pseudonym_key_fingerprint') is null
            then error(
                'pseudonym key not set on this DuckDB connection: set DBT_ENV_SECRET_PSEUDONYM_KEY '
                || 'and configure the pseudonym_key plugin in profiles.yml'
            )
        else cast(getvariable('pseudonym_key_fingerprint') as varchar)
    end
{%- endmacro %}

{% macro spark__pseudonym_key_fingerprint() -%}
    coalesce(
        (select pads.key_fingerprint from privseg_pseudonym_pads as pads),
        raise_error(
            'pseudonym key not in this Spark session: run dbt through scripts/spark_build.py, '
            || 'which registers the key pads'
        )
    )
{%- endmacro %}
