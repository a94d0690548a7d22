{#
    Select of every row of `records` (a CTE of the caller) with amounts
    converted to euro at the rate of the row's currency (seed
    currency_rates), rounded to cents: `amounts` maps each amount column to
    the name of its euro column. A row whose currency has no rate is
    dropped, never given a wrong or NULL value.
#}
{% macro amounts_in_eur(records, amounts, currency_column='currency_code') %}
    select
        {{ records }}.*,
        {%- for amount, in_eur in amounts.items() %}
        cast({{ records }}.{{ amount }} * currency_rates.eur_per_unit as decimal(14, 2))
            as {{ in_eur }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ records }}
    inner join {{ ref('currency_rates') }} as currency_rates
        on {{ records }}.{{ currency_column }} = currency_rates.currency_code
{%- endmacro %}
