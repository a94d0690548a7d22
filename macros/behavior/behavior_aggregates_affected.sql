{#
    Select of the subjects (customer_key) whose row of
    fct_customer_behavior_aggregates this run recomputes: every subject in
    scope of analytics on a first build, a --full-refresh, a run where raw
    files changed (the event facts were rebuilt) and a run whose as_of is
    before the table's (as_of moved back: events re-enter the windows), with
    a log line. Otherwise the subjects in scope that
    - have an event the facts may have inserted, replaced or deleted this
      run: dated on or after the newest date the table holds for that fact
      (last_order_date, last_web_event_date, last_email_event_date) minus
      var behavior_lookback_days, which is never after the facts' own
      late-data window (incremental_window_delete), in the facts or in the
      row the table holds; or a purchase older than the oldest
      first_order_date (a retention policy lengthened);
    - hold a row whose aggregates_valid_until is before as_of: an event it
      counts has left the behaviour window, the cart window or retention;
    - have no row yet (a new grant, or a grant restored after a withdrawal).
    Subjects out of scope are not recomputed: the purge (purge_out_of_scope)
    deletes their rows. `purchase` is the predicate of a purchase on
    fct_orders (var behavior_purchase_statuses).
#}
{% macro behavior_aggregates_affected(purchase) -%}
    {%- set rebuild = not is_incremental() -%}
    {%- set lookback = behavior_lookback_days() -%}
    {%- if execute and is_incremental() -%}
        {%- if raw_files_changed_this_run() -%}
            {%- do log(this.identifier ~ ": raw files changed or deleted this run; "
                ~ "recomputing every subject", info=true) -%}
            {%- set rebuild = true -%}
        {%- elif run_query("select count(*) from " ~ this ~ " where as_of_date > "
            ~ as_of_date()).rows[0][0] > 0 -%}
            {%- do log(this.identifier ~ ": as_of moved back before the table's; "
                ~ "recomputing every subject", info=true) -%}
            {%- set rebuild = true -%}
        {%- endif -%}
    {%- endif %}
    select in_scope.customer_key
    from {{ ref('int_consented_subjects') }} as in_scope
    where
        in_scope.consent_purpose = 'analytics'
    {%- if not rebuild %}
        and (
            in_scope.customer_key not in (select loaded.customer_key from {{ this }} as loaded)
            or in_scope.customer_key in (
                select loaded.customer_key
                from {{ this }} as loaded
                where loaded.aggregates_valid_until < {{ as_of_date() }}
            )
            {#- rows the facts' window may have deleted without a replacement (a
                duplicate id whose winner is another subject's) #}
            or in_scope.customer_key in (
                select loaded.customer_key
                from {{ this }} as loaded
                where
                    {%- for watermark in [
                        'last_order_date', 'last_web_event_date', 'last_email_event_date',
                    ] %}
                    loaded.{{ watermark }} >= (
                        select max(newest.{{ watermark }}) from {{ this }} as newest
                    ) - {{ lookback | int }}
                    {{- ' or' if not loop.last }}
                    {%- endfor %}
            )
            or in_scope.customer_key in (
                select facts.customer_key
                from {{ ref('fct_orders') }} as facts
                where
                    facts.ordered_date >= (
                        select coalesce(max(loaded.last_order_date), date '0001-01-01')
                        from {{ this }} as loaded
                    ) - {{ lookback | int }}
                    or (
                        facts.{{ purchase }}
                        and facts.ordered_date < (
                            select min(loaded.first_order_date) from {{ this }} as loaded
                        )
                    )
            )
            {%- for fact, watermark in [
                ('fct_web_events', 'last_web_event_date'),
                ('fct_email_events', 'last_email_event_date'),
            ] %}
            or in_scope.customer_key in (
                select facts.customer_key
                from {{ ref(fact) }} as facts
                where
                    facts.occurred_date >= (
                        select coalesce(max(loaded.{{ watermark }}), date '0001-01-01')
                        from {{ this }} as loaded
                    ) - {{ lookback | int }}
            )
            {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
