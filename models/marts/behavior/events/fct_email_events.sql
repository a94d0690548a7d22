with

final as (
    {{ event_fact_rows('int_email_events_pseudonymized', [
        'campaign_id', 'customer_key', 'event_type', 'occurred_date', 'occurred_daypart',
        'occurred_day_of_week',
    ]) }}
)

select * from final
