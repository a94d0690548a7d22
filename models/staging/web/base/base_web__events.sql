{#- ip_address and referrer are never selected: no purpose (see the source yml). #}
{{ validate_raw_rows(
    source_relation=source('web', 'web_events'),
    primary_key='event_id',
    columns={
        'event_id': 'bigint',
        'customer_id': 'bigint',
        'session_id': 'varchar',
        'event_type': 'varchar',
        'page_category': 'varchar',
        'product_id': 'bigint',
        'occurred_at': 'timestamp',
        'user_agent': 'varchar',
    },
    required=['session_id', 'event_type', 'occurred_at'],
    timestamp_column='occurred_at',
    accepted_values={
        'event_type': ['page_view', 'product_view', 'add_to_cart', 'checkout_start', 'purchase'],
    },
    foreign_keys={
        'customer_id': ref('base_shop__customers'),
        'product_id': ref('base_shop__products'),
    },
) }}
