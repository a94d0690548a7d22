{#
    Scalar SQL functions whose name differs between the engines, one
    dispatched macro each (default: DuckDB's spelling; spark__: Spark SQL's).
#}

{#- Boolean: `text` begins with `prefix`. #}
{% macro text_starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('text_starts_with', 'privacy_segmentation')(text, prefix)) }}
{%- endmacro %}

{% macro default__text_starts_with(text, prefix) -%}
    starts_with({{ text }}, {{ prefix }})
{%- endmacro %}

{% macro spark__text_starts_with(text, prefix) -%}
    startswith({{ text }}, {{ prefix }})
{%- endmacro %}

{#- Boolean: the regular expression `pattern` matches somewhere in `text` (not anchored). #}
{% macro text_matches(text, pattern) -%}
    {{ return(adapter.dispatch('text_matches', 'privacy_segmentation')(text, pattern)) }}
{%- endmacro %}

{% macro default__text_matches(text, pattern) -%}
    regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__text_matches(text, pattern) -%}
    regexp_like({{ text }}, {{ pattern }})
{%- endmacro %}

{#- An expression that fails the query with `message` (a SQL string expression) when evaluated. #}
{% macro sql_error(message) -%}
    {{ return(adapter.dispatch('sql_error', 'privacy_segmentation')(message)) }}
{%- endmacro %}

{% macro default__sql_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__sql_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{#- One row per item of `text` split at the one-character `separator`: a set-returning
    expression for a select list, alone (not inside another function; Spark cannot nest a
    generator). DuckDB unnest(string_split), Spark explode(split) with the separator as a
    one-character regex class. #}
{% macro split_rows(text, separator) -%}
    {%- if separator is not string or separator | length != 1 or separator in "\\]^'" -%}
        {{ exceptions.raise_compiler_error(
            "split_rows: `separator` must be one character other than \\ ] ^ and ', got "
            ~ separator) }}
    {%- endif -%}
    {{ return(adapter.dispatch('split_rows', 'privacy_segmentation')(text, separator)) }}
{%- endmacro %}

{% macro default__split_rows(text, separator) -%}
    unnest(string_split({{ text }}, '{{ separator }}'))
{%- endmacro %}

{% macro spark__split_rows(text, separator) -%}
    explode(split({{ text }}, '[{{ separator }}]'))
{%- endmacro %}

{#- A relation of the whole numbers from `start` to `stop` (excluded), one
    bigint column named `column` (DuckDB's range() names it range, Spark's id). #}
{% macro integer_series(start, stop, column) -%}
    {{ return(adapter.dispatch('integer_series', 'privacy_segmentation')(start, stop, column)) }}
{%- endmacro %}

{% macro default__integer_series(start, stop, column) -%}
    (select range as {{ column }} from range({{ start }}, {{ stop }}))
{%- endmacro %}

{% macro spark__integer_series(start, stop, column) -%}
    (select id as {{ column }} from range({{ start }}, {{ stop }}))
{%- endmacro %}

{#- Integer division of two whole-number expressions, rounded toward zero (DuckDB //, Spark div). #}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'privacy_segmentation')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    ({{ dividend }}) // ({{ divisor }})
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    ({{ dividend }}) div ({{ divisor }})
{%- endmacro %}

{#- A list of strings from SQL string literals `items` (already quoted): DuckDB's
    varchar[], Spark's array<string>. #}
{% macro string_array(items) -%}
    {{ return(adapter.dispatch('string_array', 'privacy_segmentation')(items)) }}
{%- endmacro %}

{% macro default__string_array(items) -%}
    [{{ items | join(', ') }}]::varchar[]
{%- endmacro %}

{% macro spark__string_array(items) -%}
    cast(array({{ items | join(', ') }}) as array<string>)
{%- endmacro %}

{#- round(dividend / divisor, digits) as DuckDB computes it: DuckDB divides decimals and
    integers as doubles and rounds the double (std::round of the value times 10^digits, half
    away from zero, from the double's exact value), so 240.91 / 2 = 120.455, a double just
    below, gives 120.45. Spark's decimal division is exact (120.46) and its round() of a
    double rounds the double's decimal text: spark__rounded_quotient computes the same double
    and rounds it as DuckDB does (spark_round_like_duckdb). A decimal with `digits` decimals. #}
{% macro rounded_quotient(dividend, divisor, digits) -%}
    {{ return(adapter.dispatch('rounded_quotient', 'privacy_segmentation')(
        dividend, divisor, digits)) }}
{%- endmacro %}

{% macro default__rounded_quotient(dividend, divisor, digits) -%}
    round({{ dividend }} / {{ divisor }}, {{ digits }})
{%- endmacro %}

{% macro spark__rounded_quotient(dividend, divisor, digits) -%}
    {{ spark_round_like_duckdb(
        'cast(' ~ dividend ~ ' as double) / cast(' ~ divisor ~ ' as double)', digits) }}
{%- endmacro %}

{#- round(avg(column), digits) as DuckDB computes it: DuckDB's avg of a decimal is a double
    (the exact sum divided in extended precision), rounded as above; Spark's avg of a decimal
    is an exact decimal, which rounds a tie (0.02875) up where DuckDB's double may round it
    down. DuckDB's avg of a decimal equals its sum as a double divided by the count (checked
    on every cluster and category of fct_customer_affinity): spark__rounded_average computes
    that double and rounds it as DuckDB does. #}
{% macro rounded_average(column, digits) -%}
    {{ return(adapter.dispatch('rounded_average', 'privacy_segmentation')(column, digits)) }}
{%- endmacro %}

{% macro default__rounded_average(column, digits) -%}
    round(avg({{ column }}), {{ digits }})
{%- endmacro %}

{% macro spark__rounded_average(column, digits) -%}
    {{ spark_round_like_duckdb(
        'cast(sum(' ~ column ~ ') as double) / cast(count(' ~ column ~ ') as double)', digits) }}
{%- endmacro %}

{#- Spark: the double `value` rounded to `digits` decimals as DuckDB's round(double) does:
    the double's exact binary value, half away from zero (round(120.455, 2) is 120.45: the
    double is 120.45499999...; round(0.125, 2) is 0.13), as an exact decimal. Spark's round()
    of a double rounds its decimal text, and value * 10^digits as a double can round onto the
    tie (120.455 * 100 is 12045.5). So the product is taken exactly as p + e (Dekker's
    TwoProduct: 10^digits has at most 26 significant bits for digits <= 6, so splitting the
    value alone suffices), and a product exactly at .5 goes the way of e. #}
{% macro spark_round_like_duckdb(value, digits) -%}
    {%- if digits is not number or digits < 0 or digits > 6 -%}
        {{ exceptions.raise_compiler_error(
            "spark_round_like_duckdb: digits must be a whole number from 0 to 6, got " ~ digits) }}
    {%- endif -%}
    {%- set scale = '1' ~ ('0' * (digits | int)) -%}
    {%- set a = 'abs(' ~ value ~ ')' -%}
    {%- set p = '(' ~ a ~ ' * ' ~ scale ~ 'D)' -%}
    {%- set c = '(134217729D * ' ~ a ~ ')' -%}
    {%- set high = '(' ~ c ~ ' - (' ~ c ~ ' - ' ~ a ~ '))' -%}
    {%- set low = '(' ~ a ~ ' - ' ~ high ~ ')' -%}
    {%- set e = '((' ~ high ~ ' * ' ~ scale ~ 'D - ' ~ p ~ ') + ' ~ low ~ ' * ' ~ scale ~ 'D)' -%}
    {%- set frac = '(' ~ p ~ ' - floor(' ~ p ~ '))' -%}
    (cast(
        signum({{ value }})
        * case
            when {{ frac }} > 0.5D then floor({{ p }}) + 1
            when {{ frac }} < 0.5D then floor({{ p }})
            when {{ e }} < 0D then floor({{ p }})
            else floor({{ p }}) + 1
        end as decimal(38, 0)) / {{ scale }})
{%- endmacro %}
