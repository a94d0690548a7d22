{{ validate_raw_rows(
    source_relation=source('preference_center', 'preferences'),
    primary_key='customer_id',
    columns={
        'customer_id': 'bigint',
        'stated_interests': 'varchar',
        'preferred_channel': 'varchar',
        'preferred_frequency': 'varchar',
        'updated_at': 'timestamp',
    },
    required=['updated_at'],
    timestamp_column='updated_at',
    accepted_values={
        'preferred_channel': ['email', 'sms', 'app', 'none'],
        'preferred_frequency': ['daily', 'weekly', 'monthly'],
    },
    foreign_keys={'customer_id': ref('base_shop__customers')},
) }}
