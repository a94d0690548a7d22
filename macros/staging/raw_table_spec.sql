{#
    What each raw table is, for validation: the one place that says it.
    raw_table_spec(table) returns a dict with
        source_name, base_model, typed_model,
        primary_key, columns {name: type} (the columns staging selects, in
        order; a column not listed is never read), required, timestamp_column,
        amount_columns, accepted_values {column: [values]},
        foreign_keys {column: parent base_ model}, dedupe_by.
    Raw columns with no purpose are never listed, so never read:
    customers.gender and crm_note, orders.payment_card_last4,
    web_events.ip_address (see the source yml).
    typed_raw_rows (typed_<source>__<table>, incremental by source file) does
    the checks of one row; validate_raw_rows (base_<source>__<table>) adds
    the checks that depend on other rows or on the run's as_of.
#}
{% macro raw_table_spec(table) -%}
    {%- set specs = {
        'campaigns': {
            'source_name': 'email',
            'base_model': 'base_email__campaigns',
            'typed_model': 'typed_email__campaigns',
            'primary_key': 'campaign_id',
            'columns': {
                'campaign_id': 'bigint',
                'campaign_name': 'varchar',
                'channel': 'varchar',
                'objective': 'varchar',
                'launched_at': 'timestamp',
            },
            'required': ['channel', 'launched_at'],
            'timestamp_column': 'launched_at',
            'accepted_values': {
                'channel': ['email'],
                'objective': ['promotion', 'newsletter', 'winback', 'product_launch'],
            },
        },
        'email_events': {
            'source_name': 'email',
            'base_model': 'base_email__events',
            'typed_model': 'typed_email__events',
            'primary_key': 'email_event_id',
            'columns': {
                'email_event_id': 'bigint',
                'campaign_id': 'bigint',
                'customer_id': 'bigint',
                'event_type': 'varchar',
                'occurred_at': 'timestamp',
            },
            'required': ['campaign_id', 'customer_id', 'event_type', 'occurred_at'],
            'timestamp_column': 'occurred_at',
            'accepted_values': {'event_type': ['send', 'open', 'click', 'unsubscribe']},
            'foreign_keys': {
                'campaign_id': 'base_email__campaigns',
                'customer_id': 'base_shop__customers',
            },
        },
        'consent_events': {
            'source_name': 'preference_center',
            'base_model': 'base_preference_center__consent_events',
            'typed_model': 'typed_preference_center__consent_events',
            'primary_key': 'consent_event_id',
            'columns': {
                'consent_event_id': 'bigint',
                'customer_id': 'bigint',
                'purpose': 'varchar',
                'action': 'varchar',
                'source': 'varchar',
                'policy_version': 'integer',
                'recorded_at': 'timestamp',
            },
            'required': ['customer_id', 'purpose', 'action', 'policy_version', 'recorded_at'],
            'timestamp_column': 'recorded_at',
            'accepted_values': {
                'purpose': [
                    'analytics', 'personalization', 'marketing_email', 'contextual_advertising',
                ],
                'action': ['granted', 'withdrawn'],
                'source': ['preference_center', 'checkout', 'cookie_banner', 'import'],
            },
            'foreign_keys': {'customer_id': 'base_shop__customers'},
        },
        'erasure_requests': {
            'source_name': 'preference_center',
            'base_model': 'base_preference_center__erasure_requests',
            'typed_model': 'typed_preference_center__erasure_requests',
            'primary_key': 'request_id',
            'columns': {
                'request_id': 'bigint',
                'customer_id': 'bigint',
                'requested_at': 'timestamp',
                'status': 'varchar',
            },
            'required': ['customer_id', 'requested_at', 'status'],
            'timestamp_column': 'requested_at',
            'accepted_values': {'status': ['received', 'completed', 'rejected']},
            'foreign_keys': {'customer_id': 'base_shop__customers'},
        },
        'preferences': {
            'source_name': 'preference_center',
            'base_model': 'base_preference_center__preferences',
            'typed_model': 'typed_preference_center__preferences',
            'primary_key': 'customer_id',
            'columns': {
                'customer_id': 'bigint',
                'stated_interests': 'varchar',
                'preferred_channel': 'varchar',
                'preferred_frequency': 'varchar',
                'updated_at': 'timestamp',
            },
            'required': ['updated_at'],
            'timestamp_column': 'updated_at',
            'accepted_values': {
                'preferred_channel': ['email', 'sms', 'app', 'none'],
                'preferred_frequency': ['daily', 'weekly', 'monthly'],
            },
            'foreign_keys': {'customer_id': 'base_shop__customers'},
        },
        'customers': {
            'source_name': 'shop',
            'base_model': 'base_shop__customers',
            'typed_model': 'typed_shop__customers',
            'primary_key': 'customer_id',
            'columns': {
                'customer_id': 'bigint',
                'first_name': 'varchar',
                'last_name': 'varchar',
                'email': 'varchar',
                'phone': 'varchar',
                'birth_date': 'date',
                'street_address': 'varchar',
                'postcode': 'varchar',
                'city': 'varchar',
                'country': 'varchar',
                'signup_at': 'timestamp',
            },
            'required': ['country', 'signup_at'],
            'timestamp_column': 'signup_at',
        },
        'order_items': {
            'source_name': 'shop',
            'base_model': 'base_shop__order_items',
            'typed_model': 'typed_shop__order_items',
            'primary_key': 'order_item_id',
            'columns': {
                'order_item_id': 'bigint',
                'order_id': 'bigint',
                'product_id': 'bigint',
                'quantity': 'integer',
                'unit_price': 'decimal(12, 2)',
            },
            'required': ['order_id', 'product_id', 'quantity', 'unit_price'],
            'amount_columns': ['unit_price'],
            'foreign_keys': {
                'order_id': 'base_shop__orders',
                'product_id': 'base_shop__products',
            },
        },
        'orders': {
            'source_name': 'shop',
            'base_model': 'base_shop__orders',
            'typed_model': 'typed_shop__orders',
            'primary_key': 'order_id',
            'columns': {
                'order_id': 'bigint',
                'customer_id': 'bigint',
                'ordered_at': 'timestamp',
                'status': 'varchar',
                'channel': 'varchar',
                'currency': 'varchar',
                'total_amount': 'decimal(12, 2)',
                'shipping_postcode': 'varchar',
            },
            'required': ['customer_id', 'ordered_at', 'status', 'currency', 'total_amount'],
            'timestamp_column': 'ordered_at',
            'amount_columns': ['total_amount'],
            'accepted_values': {
                'status': ['completed', 'shipped', 'cancelled', 'returned'],
                'channel': ['web', 'app', 'marketplace', 'store'],
                'currency': ['EUR', 'GBP', 'USD'],
            },
            'foreign_keys': {'customer_id': 'base_shop__customers'},
        },
        'products': {
            'source_name': 'shop',
            'base_model': 'base_shop__products',
            'typed_model': 'typed_shop__products',
            'primary_key': 'product_id',
            'columns': {
                'product_id': 'bigint',
                'product_name': 'varchar',
                'category': 'varchar',
                'subcategory': 'varchar',
                'list_price': 'decimal(12, 2)',
            },
            'required': ['category', 'list_price'],
            'amount_columns': ['list_price'],
        },
        'web_events': {
            'source_name': 'web',
            'base_model': 'base_web__events',
            'typed_model': 'typed_web__events',
            'primary_key': 'event_id',
            'columns': {
                'event_id': 'bigint',
                'customer_id': 'bigint',
                'session_id': 'varchar',
                'event_type': 'varchar',
                'page_category': 'varchar',
                'product_id': 'bigint',
                'occurred_at': 'timestamp',
                'user_agent': 'varchar',
                'referrer': 'varchar',
                'geo_country': 'varchar',
                'utm_campaign': 'varchar',
            },
            'required': ['session_id', 'event_type', 'occurred_at'],
            'timestamp_column': 'occurred_at',
            'accepted_values': {
                'event_type': [
                    'page_view', 'product_view', 'add_to_cart', 'checkout_start', 'purchase',
                ],
                'geo_country': ['DE', 'ES', 'FR', 'GB', 'IT', 'NL', 'US'],
            },
            'foreign_keys': {
                'customer_id': 'base_shop__customers',
                'product_id': 'base_shop__products',
            },
        }
    } -%}
    {%- if table not in specs -%}
        {{ exceptions.raise_compiler_error(
            "raw_table_spec: no raw table '" ~ table ~ "'; known: " ~ (specs.keys() | list)) }}
    {%- endif -%}
    {%- set spec = specs[table] -%}
    {%- for key, default in [('required', []), ('timestamp_column', none),
        ('amount_columns', []), ('accepted_values', {}), ('foreign_keys', {}),
        ('dedupe_by', none)] if key not in spec -%}
        {%- do spec.update({key: default}) -%}
    {%- endfor -%}
    {{ return(spec) }}
{%- endmacro %}
