"""The raw contract: the tables the generator writes and their exact column order (every column
VARCHAR, as a source system would export text). The dbt sources declare the same columns; a unit
test holds the two together."""

from __future__ import annotations

from privseg.core.settings import RAW_TABLES

RAW_COLUMNS: dict[str, list[str]] = {
    "customers": [
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "street_address",
        "postcode",
        "city",
        "country",
        "signup_at",
        "gender",
        "crm_note",
    ],
    "products": ["product_id", "product_name", "category", "subcategory", "list_price"],
    "orders": [
        "order_id",
        "customer_id",
        "ordered_at",
        "status",
        "channel",
        "currency",
        "total_amount",
        "shipping_postcode",
        "payment_card_last4",
    ],
    "order_items": ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
    "web_events": [
        "event_id",
        "customer_id",
        "session_id",
        "event_type",
        "page_category",
        "product_id",
        "occurred_at",
        "ip_address",
        "user_agent",
        "referrer",
        "geo_country",
        "utm_campaign",
    ],
    "campaigns": ["campaign_id", "campaign_name", "channel", "objective", "launched_at"],
    "email_events": ["email_event_id", "campaign_id", "customer_id", "event_type", "occurred_at"],
    "consent_events": [
        "consent_event_id",
        "customer_id",
        "purpose",
        "action",
        "source",
        "policy_version",
        "recorded_at",
    ],
    "preferences": [
        "customer_id",
        "stated_interests",
        "preferred_channel",
        "preferred_frequency",
        "updated_at",
    ],
    "erasure_requests": ["request_id", "customer_id", "requested_at", "status"],
}

assert tuple(RAW_COLUMNS) == RAW_TABLES
