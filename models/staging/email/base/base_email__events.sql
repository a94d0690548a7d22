{{ validate_raw_rows(
    source_relation=source('email', 'email_events'),
    primary_key='email_event_id',
    columns={
        'email_event_id': 'bigint',
        'campaign_id': 'bigint',
        'customer_id': 'bigint',
        'event_type': 'varchar',
        'occurred_at': 'timestamp',
    },
    required=['campaign_id', 'customer_id', 'event_type', 'occurred_at'],
    timestamp_column='occurred_at',
    accepted_values={'event_type': ['send', 'open', 'click', 'unsubscribe']},
    foreign_keys={
        'campaign_id': ref('base_email__campaigns'),
        'customer_id': ref('base_shop__customers'),
    },
) }}
