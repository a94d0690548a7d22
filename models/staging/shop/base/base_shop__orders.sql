{#- payment_card_last4 is never selected: no purpose (see the source yml). #}
{{ validate_raw_rows(
    source_relation=source('shop', 'orders'),
    primary_key='order_id',
    columns={
        'order_id': 'bigint',
        'customer_id': 'bigint',
        'ordered_at': 'timestamp',
        'status': 'varchar',
        'channel': 'varchar',
        'currency': 'varchar',
        'total_amount': 'decimal(12, 2)',
        'shipping_postcode': 'varchar',
    },
    required=['customer_id', 'ordered_at', 'status', 'currency', 'total_amount'],
    timestamp_column='ordered_at',
    amount_columns=['total_amount'],
    accepted_values={
        'status': ['completed', 'shipped', 'cancelled', 'returned'],
        'channel': ['web', 'app', 'marketplace', 'store'],
        'currency': ['EUR', 'GBP', 'USD'],
    },
    foreign_keys={'customer_id': ref('base_shop__customers')},
) }}
