{{ validate_raw_rows(
    source_relation=source('preference_center', 'consent_events'),
    primary_key='consent_event_id',
    columns={
        'consent_event_id': 'bigint',
        'customer_id': 'bigint',
        'purpose': 'varchar',
        'action': 'varchar',
        'source': 'varchar',
        'policy_version': 'integer',
        'recorded_at': 'timestamp',
    },
    required=['customer_id', 'purpose', 'action', 'policy_version', 'recorded_at'],
    timestamp_column='recorded_at',
    accepted_values={
        'purpose': ['analytics', 'personalization', 'marketing_email'],
        'action': ['granted', 'withdrawn'],
        'source': ['preference_center', 'checkout', 'cookie_banner', 'import'],
    },
    foreign_keys={'customer_id': ref('base_shop__customers')},
) }}
