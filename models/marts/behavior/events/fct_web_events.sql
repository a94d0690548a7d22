{#-
    Anonymous traffic (no customer) is not kept: there is no subject whose
    consent could cover it (event_fact_rows keeps subjects in scope only).
-#}
with

final as (
    {{ event_fact_rows('int_web_events_pseudonymized', [
        'customer_key', 'session_key', 'event_type', 'page_category', 'product_id',
        'occurred_date', 'occurred_daypart', 'occurred_day_of_week', 'device_class',
    ]) }}
)

select * from final
