#!/usr/bin/env python3
"""Generate deterministic synthetic raw data for the online-shop project.

Usage:
    python scripts/generate_data.py --customers N --days D --seed S \
        [--faults RATE] [--end-date YYYY-MM-DD] --out DIR

Writes one Parquet file per raw table (``DIR/<table>.parquet``, every column VARCHAR, exactly
as a source system would export text) plus ``DIR/generation_manifest.json``.

Everything is generated set-based in DuckDB SQL. Every random number is derived from DuckDB's
deterministic ``hash()`` of (seed, a per-use salt, row ids), re-hashed and mapped to [0, 1), and
every file is written ordered by its id, so the same arguments always give byte-identical files.
``--faults RATE`` adds (never mutates) faulty rows, each with exactly one defect, for the staging
layer to catch; ``generation_manifest.json`` counts them per table and kind.

Exit codes: 0 ok, 1 unexpected failure, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTCODE_AREAS_CSV = REPO_ROOT / "seeds/reference/postcode_areas.csv"

# --------------------------------------------------------------------------------------------
# Contract: raw tables and their exact column order (all VARCHAR).
# --------------------------------------------------------------------------------------------
TABLE_COLUMNS: dict[str, list[str]] = {
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

FAULT_KINDS: tuple[str, ...] = (
    "null_id",
    "wrong_type",
    "unparseable_timestamp",
    "future_timestamp",
    "non_numeric_amount",
    "negative_amount",
    "unknown_enum",
    "orphan_fk",
    "duplicate_id",
)

# Values that DuckDB's try_cast(... AS BIGINT) rejects ('3.5' is NOT used: it casts to 4).
WRONG_TYPE_VALUES = ["n/a", "12x", "one", "#N/A"]
UNPARSEABLE_TIMESTAMPS = ["not a date", "2026-13-45 25:61:00", "31/02/2026 10:00"]
NON_NUMERIC_AMOUNTS = ["12,50 EUR", "abc", "twelve"]
FRESH_ID_BASE = 800_000_001
ORPHAN_ID_BASE = 900_000_001

# Enumerations (clean values) that are rendered from compact codes or rotated for duplicates.
ORDER_STATUSES = ["completed", "shipped", "cancelled", "returned"]
WEB_EVENT_TYPES = ["page_view", "product_view", "add_to_cart", "checkout_start", "purchase"]
EMAIL_EVENT_TYPES = ["send", "open", "click", "unsubscribe"]
PURPOSES = ["analytics", "personalization", "marketing_email"]
CONSENT_ACTIONS = ["granted", "withdrawn"]
CONSENT_SOURCES = ["preference_center", "checkout", "cookie_banner", "import"]
PREF_CHANNELS = ["email", "sms", "app", "none"]
PREF_FREQUENCIES = ["daily", "weekly", "monthly"]
ERASURE_STATUSES = ["received", "completed", "rejected"]

N_PRODUCTS = 2000


@dataclass(frozen=True)
class TableSpec:
    """Which columns play which role, for fault injection."""

    pk: str
    ts: str | None = None
    ts_iso: bool = False  # timestamps written as 'YYYY-MM-DDTHH:MM:SS.mmmZ'
    amount: str | None = None
    enums: list[tuple[str, str]] = field(default_factory=list)  # (column, unknown value)
    fks: list[tuple[str, str]] = field(default_factory=list)  # (column, eligibility SQL)
    wrong_type: str = ""  # integer-typed column that receives a non-integer text
    wrong_type_where: str = "TRUE"
    duplicate: dict[str, str] = field(default_factory=dict)  # column -> SQL over alias s


def _rotate(values: list[str], col: str) -> str:
    """SQL: the next value of ``values`` after s.col (cyclic), i.e. always a different one."""
    lst = "[" + ", ".join(_lit(v) for v in values) + "]"
    return f"{lst}[(list_position({lst}, s.{col}) % {len(values)}) + 1]"


def _lit(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def _earlier(col: str, iso: bool = False) -> str:
    """SQL: s.col moved 1-60 minutes earlier (so "latest row wins" keeps the clean original)."""
    shifted = f"s.{col}::TIMESTAMP - to_seconds(60 + s._k % 3540)"
    return f"strftime({shifted}, '%Y-%m-%dT%H:%M:%S.%gZ')" if iso else f"({shifted})::VARCHAR"


# duplicate_id copies conflict in non-key values; where the table has a timestamp, the copy is
# also slightly older (except preferences: same updated_at, a genuine conflict), and changes never
# break cross-table arithmetic (order totals still equal the sum of their items).
TABLE_SPECS: dict[str, TableSpec] = {
    "customers": TableSpec(
        pk="customer_id",
        ts="signup_at",
        wrong_type="customer_id",
        duplicate={"street_address": "s._alt_street", "signup_at": _earlier("signup_at")},
    ),
    "products": TableSpec(
        pk="product_id",
        amount="list_price",
        wrong_type="product_id",
        duplicate={"product_name": "s.product_name || ' v2'"},
    ),
    "orders": TableSpec(
        pk="order_id",
        ts="ordered_at",
        amount="total_amount",
        enums=[("status", "refunded?"), ("channel", "pigeon"), ("currency", "BTC")],
        fks=[("customer_id", "TRUE")],
        wrong_type="customer_id",
        duplicate={
            "status": _rotate(ORDER_STATUSES, "status"),
            "ordered_at": _earlier("ordered_at"),
        },
    ),
    "order_items": TableSpec(
        pk="order_item_id",
        amount="unit_price",
        fks=[("order_id", "TRUE"), ("product_id", "TRUE")],
        wrong_type="quantity",
        duplicate={  # another product at the same quantity and price
            "product_id": f"((s.product_id::INTEGER - 1001 + 1 + s._k % {N_PRODUCTS - 1}) "
            f"% {N_PRODUCTS} + 1001)::VARCHAR",
        },
    ),
    "web_events": TableSpec(
        pk="event_id",
        ts="occurred_at",
        ts_iso=True,
        enums=[("event_type", "hover")],
        fks=[("customer_id", "TRUE"), ("product_id", "product_id IS NOT NULL")],
        wrong_type="customer_id",
        wrong_type_where="customer_id IS NOT NULL",
        duplicate={
            "ip_address": (
                "regexp_replace(s.ip_address, '\\.[0-9]+$', '') || '.' || "
                "((split_part(s.ip_address, '.', 4)::INTEGER % 253) + 1)::VARCHAR"
            ),
            "occurred_at": _earlier("occurred_at", iso=True),
        },
    ),
    "campaigns": TableSpec(
        pk="campaign_id",
        ts="launched_at",
        enums=[("channel", "pigeon"), ("objective", "world_domination")],
        wrong_type="campaign_id",
        duplicate={
            "campaign_name": "s.campaign_name || ' (resend)'",
            "launched_at": _earlier("launched_at"),
        },
    ),
    "email_events": TableSpec(
        pk="email_event_id",
        ts="occurred_at",
        enums=[("event_type", "spam_complaint")],
        fks=[("campaign_id", "TRUE"), ("customer_id", "TRUE")],
        wrong_type="customer_id",
        duplicate={
            "occurred_at": _earlier("occurred_at"),
        },
    ),
    "consent_events": TableSpec(
        pk="consent_event_id",
        ts="recorded_at",
        enums=[("purpose", "tracking"), ("action", "revoked"), ("source", "fax")],
        fks=[("customer_id", "TRUE")],
        wrong_type="customer_id",
        duplicate={
            "source": _rotate(CONSENT_SOURCES, "source"),
            "recorded_at": _earlier("recorded_at"),
        },
    ),
    "preferences": TableSpec(
        pk="customer_id",
        ts="updated_at",
        enums=[("preferred_channel", "pigeon"), ("preferred_frequency", "hourly")],
        fks=[("customer_id", "TRUE")],
        wrong_type="customer_id",
        duplicate={
            "preferred_channel": _rotate(PREF_CHANNELS, "preferred_channel"),
            "preferred_frequency": _rotate(PREF_FREQUENCIES, "preferred_frequency"),
        },
    ),
    "erasure_requests": TableSpec(
        pk="request_id",
        ts="requested_at",
        enums=[("status", "lost")],
        fks=[("customer_id", "TRUE")],
        wrong_type="customer_id",
        duplicate={
            "status": _rotate(ERASURE_STATUSES, "status"),
            "requested_at": _earlier("requested_at"),
        },
    ),
}


def applicable_kinds(table: str) -> list[str]:
    """Fault kinds that apply to ``table``, in the staging layer's check order."""
    spec = TABLE_SPECS[table]
    has = {
        "null_id": True,
        "wrong_type": True,
        "unparseable_timestamp": spec.ts is not None,
        "future_timestamp": spec.ts is not None,
        "non_numeric_amount": spec.amount is not None,
        "negative_amount": spec.amount is not None,
        "unknown_enum": bool(spec.enums),
        "orphan_fk": bool(spec.fks),
        "duplicate_id": True,
    }
    return [kind for kind in FAULT_KINDS if has[kind]]


# --------------------------------------------------------------------------------------------
# Reference data used by the generator (small lists; rows themselves are generated in SQL).
# --------------------------------------------------------------------------------------------
# fmt: off
# code, weight, currency, street-number-first?, streets, female, male, last names
COUNTRIES: list[tuple[str, float, str, bool, list[str], list[str], list[str], list[str]]] = [
    ('GB', 0.25, 'GBP', True,
     ['High Street', 'Station Road', 'Church Lane', 'Victoria Road', 'Park Avenue',
      'Queen Street', 'Mill Lane', 'King Street', 'The Crescent', 'Green Lane'],
     ['Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Sophie', 'Grace', 'Chloe', 'Lucy', 'Charlotte',
      'Hannah', 'Jessica'],
     ['Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah', 'Thomas', 'James', 'William',
      'Samuel', 'Daniel', 'Joseph'],
     ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson',
      'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green']),
    ('DE', 0.2, 'EUR', False,
     ['Hauptstraße', 'Bahnhofstraße', 'Gartenstraße', 'Schulstraße', 'Lindenweg', 'Bergstraße',
      'Waldstraße', 'Dorfstraße', 'Kirchgasse', 'Goethestraße'],
     ['Anna', 'Lena', 'Leonie', 'Marie', 'Sophie', 'Laura', 'Julia', 'Hannah', 'Lea', 'Katharina',
      'Sarah', 'Johanna'],
     ['Lukas', 'Leon', 'Finn', 'Jonas', 'Paul', 'Felix', 'Maximilian', 'Tim', 'Jan', 'Niklas',
      'Florian', 'Tobias'],
     ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz',
      'Hoffmann', 'Koch', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann']),
    ('FR', 0.12, 'EUR', True,
     ['rue de la Paix', 'avenue Victor Hugo', 'rue des Lilas', 'boulevard Saint-Michel',
      'rue du Moulin', 'place de la République', 'rue Pasteur', 'allée des Chênes',
      'rue Jean Jaurès', 'avenue de la Gare'],
     ['Emma', 'Léa', 'Chloé', 'Manon', 'Camille', 'Inès', 'Sarah', 'Jade', 'Louise', 'Zoé',
      'Clara', 'Juliette'],
     ['Lucas', 'Hugo', 'Louis', 'Gabriel', 'Arthur', 'Jules', 'Nathan', 'Théo', 'Raphaël', 'Tom',
      'Paul', 'Maxime'],
     ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy',
      'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'Fournier']),
    ('NL', 0.08, 'EUR', False,
     ['Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Schoolstraat', 'Stationsweg', 'Julianastraat',
      'Beatrixlaan', 'Nieuwstraat', 'Prinsengracht', 'Marktplein'],
     ['Emma', 'Julia', 'Sophie', 'Anna', 'Sanne', 'Lisa', 'Eva', 'Fleur', 'Lotte', 'Sara', 'Noor',
      'Iris'],
     ['Daan', 'Sem', 'Lucas', 'Levi', 'Finn', 'Milan', 'Bram', 'Thijs', 'Jesse', 'Ruben', 'Lars',
      'Stijn'],
     ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Janssen', 'Visser',
      'Smit', 'Meijer', 'de Boer', 'Mulder', 'de Groot', 'Bos', 'Vos', 'Peters']),
    ('ES', 0.08, 'EUR', False,
     ['Calle Mayor', 'Calle Real', 'Avenida de la Constitución', 'Calle del Sol',
      'Plaza de España', 'Calle Nueva', 'Paseo de Gracia', 'Calle San Juan',
      'Avenida de Andalucía', 'Calle de Toledo'],
     ['Lucía', 'María', 'Paula', 'Sofía', 'Martina', 'Carmen', 'Laura', 'Elena', 'Ana', 'Marta',
      'Sara', 'Alba'],
     ['Hugo', 'Martín', 'Lucas', 'Daniel', 'Pablo', 'Alejandro', 'Javier', 'David', 'Carlos',
      'Manuel', 'Sergio', 'Álvaro'],
     ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez',
      'Gómez', 'Martín', 'Jiménez', 'Ruiz', 'Hernández', 'Díaz', 'Moreno', 'Álvarez']),
    ('IT', 0.07, 'EUR', False,
     ['Via Roma', 'Via Garibaldi', 'Corso Italia', 'Via Mazzini', 'Piazza Dante', 'Via Verdi',
      'Via Cavour', 'Viale Europa', 'Via Dante Alighieri', 'Via Marconi'],
     ['Sofia', 'Giulia', 'Aurora', 'Alice', 'Ginevra', 'Emma', 'Giorgia', 'Francesca', 'Chiara',
      'Martina', 'Sara', 'Elena'],
     ['Leonardo', 'Francesco', 'Alessandro', 'Lorenzo', 'Mattia', 'Andrea', 'Gabriele', 'Matteo',
      'Tommaso', 'Riccardo', 'Marco', 'Luca'],
     ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino',
      'Greco', 'Bruno', 'Gallo', 'Conti', 'De Luca', 'Costa', 'Giordano']),
    ('US', 0.2, 'USD', True,
     ['Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Washington Blvd', 'Park Ave',
      'Sunset Blvd', 'Lake Shore Dr', 'Pine St'],
     ['Emily', 'Olivia', 'Emma', 'Ava', 'Sophia', 'Madison', 'Abigail', 'Jessica', 'Ashley',
      'Sarah', 'Taylor', 'Megan'],
     ['Michael', 'James', 'John', 'Robert', 'David', 'William', 'Christopher', 'Matthew',
      'Joshua', 'Daniel', 'Andrew', 'Ryan'],
     ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Garcia', 'Rodriguez',
      'Wilson', 'Martinez', 'Anderson', 'Taylor', 'Nguyen', 'Kim', 'Patel']),
]

# category, demand weight, median list price; subcategories: (name, noun, price factor)
CATEGORIES: list[tuple[str, float, float, list[tuple[str, str, float]]]] = [
    ('apparel', 0.2, 35.0,
     [('t-shirts', 'T-Shirt', 0.6), ('jeans', 'Jeans', 1.6), ('dresses', 'Dress', 1.5),
      ('jackets', 'Jacket', 2.4), ('shoes', 'Sneakers', 2.0)]),
    ('beauty', 0.11, 22.0,
     [('skincare', 'Face Cream', 1.1), ('haircare', 'Shampoo', 0.6), ('makeup', 'Lipstick', 0.8),
      ('fragrance', 'Eau de Parfum', 2.6)]),
    ('books', 0.13, 14.0,
     [('fiction', 'Novel', 1.0), ('non-fiction', 'Biography', 1.3),
      ('children', 'Picture Book', 0.8), ('cookbooks', 'Cookbook', 1.6)]),
    ('electronics', 0.12, 110.0,
     [('audio', 'Headphones', 1.0), ('phones', 'Smartphone', 4.0), ('computers', 'Laptop', 6.0),
      ('accessories', 'USB-C Cable', 0.15), ('smart-home', 'Smart Plug', 0.35)]),
    ('garden', 0.07, 40.0,
     [('tools', 'Pruning Shears', 0.6), ('plants', 'Olive Tree', 1.0),
      ('furniture', 'Garden Chair', 2.5)]),
    ('homeware', 0.17, 45.0,
     [('kitchen', 'Chef Knife', 1.0), ('decor', 'Vase', 0.6), ('bedding', 'Duvet Cover', 1.2),
      ('lighting', 'Desk Lamp', 1.1)]),
    ('sports', 0.1, 50.0,
     [('fitness', 'Yoga Mat', 0.6), ('outdoor', 'Hiking Backpack', 1.6),
      ('cycling', 'Bike Helmet', 1.3), ('running', 'Running Shoes', 2.0)]),
    ('toys', 0.1, 25.0,
     [('games', 'Board Game', 1.2), ('building', 'Building Set', 1.8),
      ('plush', 'Teddy Bear', 0.8), ('outdoor-toys', 'Water Blaster', 0.9)]),
]
N_FIRST, N_LAST, N_STREETS = 12, 16, 10
for _c in COUNTRIES:
    assert (len(_c[4]), len(_c[5]), len(_c[6]), len(_c[7])) == (
        N_STREETS, N_FIRST, N_FIRST, N_LAST), _c[0]

BRANDS = ['Northwind', 'Acme', 'Lumen', 'Bramble', 'Kestrel', 'Orbit', 'Tidewater', 'Fjord',
          'Juniper', 'Copperleaf', 'Nimbus', 'Harbor']
ADJECTIVES = ['Classic', 'Essential', 'Premium', 'Eco', 'Compact', 'Deluxe', 'Everyday', 'Pro',
              'Vintage', 'Urban', 'Soft', 'Ultra', 'Organic', 'Smart', 'Mini', 'Family']

CRM_NOTES = [
    'prefers calls after 6pm',
    'complained about late delivery',
    'VIP - handle with care',
    'asked about bulk discount',
    'do not call on weekends',
    'wants paper invoice',
    'had issue with refund, resolved',
    'allergic to latex - no samples',
    'moved recently',
    'prefers contact by email',
    'called twice about order status',
    'interested in gift cards',
]

USER_AGENTS: dict[str, list[str]] = {
    'desktop': [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/124.0.0.0 Safari/537.36',
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like '
        'Gecko) Version/17.4 Safari/605.1.15',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/123.0.0.0 Safari/537.36',
    ],
    'mobile': [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, '
        'like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
        'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/124.0.6367.82 Mobile Safari/537.36',
        'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/124.0.6367.82 Mobile Safari/537.36',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, '
        'like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    ],
    'tablet': [
        'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like '
        'Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
        'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) '
        'Chrome/124.0.6367.82 Safari/537.36',
    ],
    'app': [
        'ShopApp/5.12.0 (iPhone; iOS 17.4; Scale/3.00)',
        'ShopApp/5.11.2 (Android 14; SM-S918B)',
    ],
}
REFERRERS: list[tuple[str | None, float]] = [(None, 0.38), ('https://www.google.com/', 0.3),
                                            ('https://www.bing.com/', 0.03),
                                            ('https://duckduckgo.com/', 0.02),
                                            ('https://www.facebook.com/', 0.06),
                                            ('https://www.instagram.com/', 0.05),
                                            ('https://t.co/', 0.02),
                                            ('https://www.pinterest.com/', 0.03),
                                            ('https://mail.example.com/', 0.05),
                                            ('https://deals.example.net/offers', 0.06)]
PUBLIC_FIRST_OCTETS = [2, 5, 24, 31, 37, 46, 50, 62, 66, 73, 77, 78, 79, 80, 81, 82, 84, 85, 86,
                       87, 88, 89, 90, 91, 92, 93, 94, 95, 98, 104, 109, 176, 178, 185, 188, 212,
                       213, 217]

# Relative activity by hour of day: night trough, lunch and evening peaks.
HOUR_WEIGHTS = [1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.1, 2.0, 2.8, 3.4, 3.9, 4.5, 6.0, 5.8, 4.5, 4.2,
                4.3, 4.8, 5.6, 6.6, 7.2, 6.5, 4.6, 2.5]
MONTH_FACTORS = [0.95, 0.85, 0.9, 0.92, 0.95, 0.92, 0.9, 0.9, 0.95, 1.0, 1.45, 1.6]
WEEKDAY_FACTORS = [  # Monday..Sunday; profile 0 = typical, profile 1 = weekend shopper
    [1.08, 1.02, 1.0, 0.98, 0.92, 0.85, 1.05],
    [0.75, 0.75, 0.75, 0.75, 0.8, 1.5, 1.6],
]
# fmt: on

# Behaviour knobs (calibrated for --days 365; counts scale with each customer's exposure).
# Orders: hurdle model. A customer buys at all with probability
# (1 - P_NEVER_BUYER) * (1 - exp(-BUYER_HAZARD * exposure_years)); buyers place
# 1 + Geometric(mean = rate * exposure_years) orders, rate ~ LogNormal(MU, SIGMA) per customer.
# At 365 days: ~25% of customers never order, ~57% of buyers order once, ~2.2 orders/customer.
P_NEVER_BUYER = 0.10
BUYER_HAZARD = 5.0
ORDER_RATE_MU = 0.1
ORDER_RATE_SIGMA = 1.4
MAX_ORDERS = 60
BROWSE_SESSIONS_PER_YEAR = 1.15  # scaled by a per-customer activity factor
ANON_SESSIONS_PER_CUSTOMER_YEAR = 1.0
P_TRACKED_PURCHASE = 0.35  # share of web/app orders with a tracked purchase session
CAMPAIGN_SAMPLE = 0.05


def log(message: str) -> None:
    print(f"[generate_data] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# SQL helpers
# --------------------------------------------------------------------------------------------
def sql_list(values: Sequence[str | int | float | None]) -> str:
    items = []
    for v in values:
        if v is None or isinstance(v, str):
            items.append(_lit(v))
        else:
            items.append(repr(v))
    return "[" + ", ".join(items) + "]"


def weighted_case(x: str, pairs: Sequence[tuple[str | int | None, float]]) -> str:
    """SQL CASE mapping uniform ``x`` in [0,1) to a value with the given relative weights."""
    total = sum(w for _, w in pairs)
    parts, cum = [], 0.0
    for value, weight in pairs[:-1]:
        cum += weight / total
        v = _lit(value) if value is None or isinstance(value, str) else str(value)
        parts.append(f"WHEN {x} < {cum!r} THEN {v}")
    last = pairs[-1][0]
    last_sql = _lit(last) if last is None or isinstance(last, str) else str(last)
    return "(CASE " + " ".join(parts) + f" ELSE {last_sql} END)"


def hour_lut() -> list[int]:
    """Inverse CDF of HOUR_WEIGHTS at 1/1000 resolution."""
    total = sum(HOUR_WEIGHTS)
    cum, bounds = 0.0, []
    for w in HOUR_WEIGHTS:
        cum += w / total
        bounds.append(cum)
    lut, h = [], 0
    for i in range(1000):
        x = (i + 0.5) / 1000
        while h < 23 and x >= bounds[h]:
            h += 1
        lut.append(h)
    return lut


@dataclass(frozen=True)
class Params:
    customers: int
    days: int
    seed: int
    fault_rate: float
    end_date: date

    @property
    def end_s(self) -> int:
        return int(
            datetime(
                self.end_date.year, self.end_date.month, self.end_date.day, tzinfo=UTC
            ).timestamp()
        )

    @property
    def win_s(self) -> int:
        return self.end_s - self.days * 86400


def black_friday(year: int) -> date:
    nov1 = date(year, 11, 1)
    first_thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def calendar_rows(p: Params) -> tuple[list[int], list[int], list[float], list[bool]]:
    """Per-day cumulative demand (two weekday profiles) over the window. D rows per profile."""
    start = p.end_date - timedelta(days=p.days)
    profiles: list[int] = []
    days: list[int] = []
    cums: list[float] = []
    promos: list[bool] = []
    for profile in (0, 1):
        weights, flags = [], []
        for d in range(p.days):
            day = start + timedelta(days=d)
            w = MONTH_FACTORS[day.month - 1] * WEEKDAY_FACTORS[profile][day.weekday()]
            bf = black_friday(day.year)
            delta = (day - bf).days
            promo = -4 <= delta <= 3
            if delta == 0:
                w *= 3.2
            elif delta in (1, 2):
                w *= 1.8
            elif delta == 3:
                w *= 2.5  # Cyber Monday
            elif -7 <= delta < 0:
                w *= 1.3
            if day.month == 12 and day.day >= 24:
                w *= {24: 0.4, 25: 0.3, 26: 0.5}.get(day.day, 0.6)
            weights.append(w)
            flags.append(promo)
        total = sum(weights)
        cum = 0.0
        for d, w in enumerate(weights):
            profiles.append(profile)
            days.append(d)
            cums.append(cum / total)
            promos.append(flags[d])
            cum += w
    return profiles, days, cums, promos


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------
DEVICES = ["desktop", "mobile", "tablet", "app"]
UA_FLAT = [ua for d in DEVICES for ua in USER_AGENTS[d]]
UA_OFFSET = [sum(len(USER_AGENTS[d]) for d in DEVICES[:i]) for i in range(len(DEVICES))]
PAGE_CATEGORIES = [c[0] for c in CATEGORIES] + ["home", "search", "account", "checkout"]
PG_HOME, PG_SEARCH, PG_ACCOUNT, PG_CHECKOUT = (len(CATEGORIES) + i for i in range(4))
# web session kinds
K_PURCHASE, K_BROWSE, K_CART, K_CHECKOUT = 0, 1, 2, 3


def slug(text: str) -> str:
    """ASCII lower-case letters only (for e-mail local parts)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", ascii_text.lower())


def postcode_sql(salt: str, key: str) -> str:
    """SQL: a plausible postcode for areas row ``a`` (prefix + country-specific suffix)."""
    letters = "'ABDEFGHJLNPQRSTUWXYZ'"  # letters used in British inward codes

    def hh(j: int) -> str:
        return f"h2('{salt}', {key}, {j})"

    return f"""CASE a.country_code
        WHEN 'GB' THEN a.postcode_prefix || ' ' || ({hh(1)} % 10)::VARCHAR
            || substr({letters}, 1 + ({hh(2)} % 20)::INT, 1)
            || substr({letters}, 1 + ({hh(3)} % 20)::INT, 1)
        WHEN 'NL' THEN a.postcode_prefix || lpad(({hh(1)} % 100)::VARCHAR, 2, '0')
            || ' ' || chr(65 + ({hh(2)} % 26)::INT) || chr(65 + ({hh(3)} % 26)::INT)
        WHEN 'US' THEN a.postcode_prefix || lpad(({hh(1)} % 100)::VARCHAR, 2, '0')
        WHEN 'FR' THEN a.postcode_prefix || '0' || lpad((1 + {hh(1)} % 20)::VARCHAR, 2, '0')
        WHEN 'ES' THEN a.postcode_prefix || '0' || lpad((1 + {hh(1)} % 50)::VARCHAR, 2, '0')
        WHEN 'IT' THEN a.postcode_prefix || '1' || lpad(({hh(1)} % 100)::VARCHAR, 2, '0')
        ELSE a.postcode_prefix || lpad(({hh(1)} % 1000)::VARCHAR, 3, '0') END"""


class Generator:
    """Builds every raw table in one in-memory DuckDB connection.

    Each table ``t`` is first built as a compact typed table/view ``nar_t`` (with a ``_rn``
    sort key equal to its numeric id); ``stg_t`` is a view rendering it as the VARCHAR contract
    columns. Rendering text happens only for rows being written, after sorting the compact rows.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, p: Params) -> None:
        self.con = con
        self.p = p
        self.wide: dict[str, str] = {}  # table -> SELECT list over alias n (contract columns)
        self.extra: dict[str, str] = {}  # table -> extra helper columns for fault injection

    def sql(self, query: str) -> None:
        self.con.execute(query).fetchall()

    def count(self, table: str) -> int:
        rows = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()
        return int(rows[0][0])

    def register(self, table: str, exprs: dict[str, str], extra: str = "") -> None:
        """Declare how nar_<table> renders to the contract columns (all VARCHAR)."""
        assert list(exprs) == TABLE_COLUMNS[table], table
        self.wide[table] = ", ".join(f"({e})::VARCHAR AS {c}" for c, e in exprs.items())
        self.extra[table] = extra
        sep = ", " if extra else ""
        self.sql(
            f"CREATE VIEW stg_{table} AS SELECT {self.wide[table]}{sep}{extra}, n._rn "
            f"FROM nar_{table} n"
        )

    def drop(self, *tables: str) -> None:
        for t in tables:
            self.sql(f"DROP TABLE IF EXISTS {t}")

    # ---- setup --------------------------------------------------------------------------
    def setup(self) -> None:
        p = self.p
        s = p.seed
        # hash(x, y, ...) only combines the per-argument hashes, which leaves values for
        # different salts strongly correlated; hashing the result again decorrelates them.
        self.sql(f"CREATE MACRO h2(salt, a, b) AS hash(hash({s}, salt, a, b))")
        self.sql(
            f"CREATE MACRO u(salt, a) AS "
            f"(hash(hash({s}, salt, a)) >> 11)::DOUBLE / 9007199254740992.0"
        )
        self.sql(
            "CREATE MACRO u2(salt, a, b) AS (h2(salt, a, b) >> 11)::DOUBLE / 9007199254740992.0"
        )
        self.sql("CREATE MACRO nrm(x, y) AS sqrt(-2 * ln(1 - x)) * cos(2 * pi() * y)")
        self.sql(f"CREATE MACRO hour_of(x) AS {sql_list(hour_lut())}[1 + floor(x * 1000)::INT]")
        self.sql("CREATE MACRO ts_txt(sec) AS make_timestamp((sec)::BIGINT * 1000000)::VARCHAR")
        self.sql(
            "CREATE MACRO ts_iso(ms) AS "
            "strftime(make_timestamp((ms)::BIGINT * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')"
        )
        self.sql(
            "CREATE MACRO geom(m, x) AS CASE WHEN m <= 0 THEN 0 "
            "ELSE floor(ln(1 - x) / ln(m / (1 + m)))::BIGINT END"
        )
        ip_first = sql_list(PUBLIC_FIRST_OCTETS)
        self.sql(f"""CREATE MACRO ipv4(k) AS
            {ip_first}[1 + (h2('ip', k, 1) % {len(PUBLIC_FIRST_OCTETS)})::INT]::VARCHAR
            || '.' || (h2('ip', k, 2) % 256)::VARCHAR
            || '.' || (h2('ip', k, 3) % 256)::VARCHAR
            || '.' || (1 + h2('ip', k, 4) % 254)::VARCHAR""")

        csv_path = str(POSTCODE_AREAS_CSV).replace("'", "''")
        self.sql(f"""CREATE TABLE areas AS
            SELECT country_code, postcode_prefix, city,
                   ((row_number() OVER (PARTITION BY country_code ORDER BY postcode_prefix))
                    - 1)::INT AS idx
            FROM read_csv('{csv_path}', header = true, all_varchar = true)""")
        rows, pool = [], []
        for code, weight, cur, num_first, streets, female, male, last in COUNTRIES:
            rows.append(f"({_lit(code)}, {weight!r}, {_lit(cur)}, {str(num_first).upper()})")
            pools = {"s": streets, "f": female, "m": male, "x": female + male, "l": last}
            for kind, values in pools.items():
                pool += [
                    f"({_lit(code)}, '{kind}', {j}, {_lit(v)}, {_lit(slug(v))})"
                    for j, v in enumerate(values)
                ]
        self.sql(f"""CREATE TABLE countries AS
            SELECT v.*, (SELECT count(*) FROM areas a WHERE a.country_code = v.code)::INT
                       AS n_areas
            FROM (VALUES {", ".join(rows)}) v(code, weight, currency, num_first)""")
        missing = self.con.execute(
            "SELECT string_agg(code, ',') FROM countries WHERE n_areas = 0"
        ).fetchall()[0][0]
        if missing:
            raise RuntimeError(f"postcode_areas.csv has no rows for countries {missing}")
        self.n_areas = dict(
            self.con.execute("SELECT code, n_areas FROM countries ORDER BY code").fetchall()
        )
        self.sql(f"""CREATE TABLE pool AS SELECT * FROM (VALUES {", ".join(pool)})
                     v(country, kind, idx, val, slug)""")

        cat_rows, sub_rows = [], []
        for ci, (cat, weight, median, subs) in enumerate(CATEGORIES):
            cat_rows.append(f"({ci}, {_lit(cat)}, {weight!r}, {median!r}, {len(subs)})")
            for si, (sub, noun, factor) in enumerate(subs):
                sub_rows.append(f"({ci}, {si}, {_lit(sub)}, {_lit(noun)}, {factor!r})")
        self.sql(f"""CREATE TABLE categories AS SELECT * FROM (VALUES {", ".join(cat_rows)})
                     v(cat_idx, category, weight, median_price, n_sub)""")
        self.sql(f"""CREATE TABLE subcategories AS SELECT * FROM (VALUES {", ".join(sub_rows)})
                     v(cat_idx, sub_idx, subcategory, noun, price_factor)""")

        profiles, days, cums, promos = calendar_rows(p)
        self.con.execute(
            "CREATE TABLE cal AS SELECT unnest($1::INTEGER[]) AS profile, "
            "unnest($2::INTEGER[]) AS day, unnest($3::DOUBLE[]) AS cum_lo, "
            "unnest($4::BOOLEAN[]) AS promo",
            [profiles, days, cums, promos],
        ).fetchall()

    def area_idx(self, country: str, x: str) -> str:
        """SQL: a uniformly chosen postcode area index within ``country`` (no join needed)."""
        n = " ".join(f"WHEN '{c}' THEN {k}" for c, k in self.n_areas.items())
        return f"floor({x} * CASE {country} {n} END)::INT"

    def category_case(self, x: str) -> str:
        return weighted_case(x, [(i, c[1]) for i, c in enumerate(CATEGORIES)])

    # ---- customers ----------------------------------------------------------------------
    def customers(self) -> None:
        p = self.p
        country = weighted_case("u('country', i)", [(c[0], c[1]) for c in COUNTRIES])
        gender = weighted_case(
            "u('gender', i)",
            [("female", 0.48), ("male", 0.455), ("non-binary", 0.02), (None, 0.045)],
        )
        channel = weighted_case(
            "u('pchan', i)", [("web", 0.5), ("app", 0.3), ("marketplace", 0.12), ("store", 0.08)]
        )
        device = weighted_case("u('device', i)", [(1, 0.55), (0, 0.35), (2, 0.10)])
        domain = weighted_case(
            "u('dom', i)", [("example.com", 0.5), ("example.org", 0.25), ("example.net", 0.25)]
        )
        sig = (
            f"CASE WHEN u('pre', i) < 0.4 "
            f"THEN {p.win_s} - (1 + floor(1095 * pow(u('sd', i), 1.3)))::BIGINT * 86400 "
            f"ELSE {p.win_s} + floor({p.days} * pow(u('sd', i), 0.8))::BIGINT * 86400 END "
            f"+ (hour_of(u('sh', i)) * 3600 + floor(u('sm', i) * 3600))::BIGINT"
        )
        age = (
            "CASE WHEN u('ageb', i) < 0.12 THEN 18 + 7 * u('age', i) "
            "WHEN u('ageb', i) < 0.80 THEN 25 + 20 * u('age', i) "
            "ELSE 45 + 41 * pow(u('age', i), 1.4) END"
        )
        phone = """CASE WHEN u('phnull', i) < 0.12 THEN NULL ELSE CASE c.country
            WHEN 'GB' THEN '+447' || lpad((h2('ph', i, 0) % 1000000000)::VARCHAR, 9, '0')
            WHEN 'DE' THEN '+491' || (5 + h2('ph', i, 1) % 3)::VARCHAR
                || lpad((h2('ph', i, 0) % 1000000000)::VARCHAR, 9, '0')
            WHEN 'FR' THEN '+33' || (6 + h2('ph', i, 1) % 2)::VARCHAR
                || lpad((h2('ph', i, 0) % 100000000)::VARCHAR, 8, '0')
            WHEN 'NL' THEN '+316' || lpad((h2('ph', i, 0) % 100000000)::VARCHAR, 8, '0')
            WHEN 'ES' THEN '+34' || (6 + h2('ph', i, 1) % 2)::VARCHAR
                || lpad((h2('ph', i, 0) % 100000000)::VARCHAR, 8, '0')
            WHEN 'IT' THEN '+393' || lpad((h2('ph', i, 0) % 1000000000)::VARCHAR, 9, '0')
            ELSE '+1' || (201 + h2('ph', i, 1) % 789)::VARCHAR
                || (200 + h2('ph', i, 2) % 800)::VARCHAR
                || lpad((h2('ph', i, 0) % 10000)::VARCHAR, 4, '0') END END"""

        def street(salt: str, alias: str) -> str:
            num = (
                f"CASE WHEN c.country = 'US' THEN 10 + h2('{salt}', i, 1) % 9990 "
                f"ELSE 1 + h2('{salt}', i, 1) % 120 END"
            )
            return (
                f"CASE WHEN k.num_first THEN ({num})::VARCHAR || ' ' || {alias}.val "
                f"WHEN c.country IN ('ES', 'IT') THEN {alias}.val || ', ' || ({num})::VARCHAR "
                f"ELSE {alias}.val || ' ' || ({num})::VARCHAR END"
            )

        fn, ln = "pf.slug", "pl.slug"
        local = f"""CASE WHEN u('estyle', i) < 0.35 THEN {fn} || '.' || {ln}
            WHEN u('estyle', i) < 0.65
                THEN {fn} || '.' || {ln} || (1 + h2('enum', i, 0) % 99)::VARCHAR
            WHEN u('estyle', i) < 0.80 THEN substr({fn}, 1, 1) || {ln}
            WHEN u('estyle', i) < 0.90
                THEN {fn} || '_' || {ln} || (1940 + h2('enum', i, 1) % 66)::VARCHAR
            ELSE {fn} || (1 + h2('enum', i, 2) % 999)::VARCHAR END"""
        note = sql_list(CRM_NOTES)
        self.sql(f"""CREATE TABLE cust1 AS
            WITH c AS (
                SELECT i, 100000 + i AS customer_id, {country} AS country, {gender} AS gender
                FROM range(1, {p.customers + 1}) r(i)
            ), g AS (
                SELECT c.*,
                       CASE gender WHEN 'female' THEN 'f' WHEN 'male' THEN 'm' ELSE 'x' END
                           AS fkind,
                       {self.area_idx("country", "u('area', i)")} AS aidx
                FROM c
            )
            SELECT c.i, c.customer_id, c.country, c.gender, k.currency,
                   ({sig})::BIGINT AS signup_s,
                   pf.val AS first_name, pl.val AS last_name,
                   {local} || '@' || {domain} AS email0,
                   {phone} AS phone,
                   {street("st", "ps")} AS street_address,
                   {street("st2", "ps2")} AS alt_street,
                   {postcode_sql("pc", "i")} AS postcode, a.city,
                   {age} AS age_years,
                   CASE WHEN u('note', i) < 0.07
                        THEN {note}[1 + (h2('note', i, 0) % {len(CRM_NOTES)})::INT] END
                       AS crm_note
            FROM g c
            JOIN countries k ON k.code = c.country
            JOIN areas a ON a.country_code = c.country AND a.idx = c.aidx
            JOIN pool pf ON pf.country = c.country AND pf.kind = c.fkind
                        AND pf.idx = (h2('fn', c.i, 0)
                                      % CASE c.fkind WHEN 'x' THEN {2 * N_FIRST}
                                                     ELSE {N_FIRST} END)::INT
            JOIN pool pl ON pl.country = c.country AND pl.kind = 'l'
                        AND pl.idx = (h2('ln', c.i, 0) % {N_LAST})::INT
            JOIN pool ps ON ps.country = c.country AND ps.kind = 's'
                        AND ps.idx = (h2('st', c.i, 0) % {N_STREETS})::INT
            JOIN pool ps2 ON ps2.country = c.country AND ps2.kind = 's'
                         AND ps2.idx = (h2('st2', c.i, 0) % {N_STREETS})::INT""")
        fav1 = self.category_case("u('fav1', i)")
        rate = f"exp({ORDER_RATE_MU} + {ORDER_RATE_SIGMA} * nrm(u('rz1', i), u('rz2', i)))"
        ncards = weighted_case("u('ncards', i)", [(1, 0.7), (2, 0.25), (3, 0.05)])
        n_cat = len(CATEGORIES)
        self.sql(f"""CREATE TABLE cust AS
            WITH b AS (
                SELECT *, greatest(signup_s, {p.win_s}) AS active_from,
                       ({p.end_s} - greatest(signup_s, {p.win_s})) / 86400.0 AS expo_days,
                       CASE WHEN u('never', i) < {P_NEVER_BUYER} THEN 0.0
                            ELSE {rate} END AS order_rate,
                       {fav1} AS fav1,
                       row_number() OVER (PARTITION BY email0 ORDER BY i) AS email_rank
                FROM cust1
            )
            SELECT i, customer_id, customer_id AS _rn, country, gender, currency, signup_s,
                   first_name, last_name, phone, street_address, postcode, city, crm_note,
                   CASE WHEN alt_street = street_address THEN street_address || ', Apt 2'
                        ELSE alt_street END AS alt_street,
                   CASE WHEN email_rank = 1 THEN email0
                        ELSE replace(email0, '@', '.' || email_rank::VARCHAR || '@') END
                       AS email,
                   least(make_timestamp(({p.end_s} - (age_years * 365.25 * 86400)::BIGINT)
                                         * 1000000)::DATE,
                         (make_timestamp(signup_s * 1000000)::DATE - INTERVAL 18 YEAR)::DATE)
                       AS birth_date,
                   ((active_from - {p.win_s}) // 86400)::INT AS first_day,
                   CASE WHEN u('wkend', i) < 0.22 THEN 1 ELSE 0 END AS profile,
                   hour_of(u('phour', i)) AS pref_hour, 0.7 * u('hfocus', i) AS hour_focus,
                   fav1,
                   CASE WHEN u('hasfav2', i) < 0.5
                        THEN (fav1 + 1 + floor(u('fav2', i) * {n_cat - 1}))::INT % {n_cat}
                   END AS fav2,
                   order_rate,
                   CASE WHEN order_rate = 0 OR active_from >= {p.end_s}
                             OR u('pbuy', i) >= 1 - exp(-{BUYER_HAZARD} * expo_days / 365.0)
                        THEN 0
                        ELSE 1 + least({MAX_ORDERS - 1},
                                       geom(order_rate * expo_days / 365.0, u('nord', i)))
                   END AS n_orders,
                   CASE WHEN active_from >= {p.end_s} THEN 0
                        ELSE geom((0.4 + 0.6 * least(order_rate, 6.0))
                                  * {BROWSE_SESSIONS_PER_YEAR} * expo_days / 365.0,
                                  u('nbrowse', i)) END AS n_browse,
                   {channel} AS pref_channel, {device} AS device,
                   {ncards} AS n_cards, u('engage', i) AS engage, u('priv', i) AS priv
            FROM b""")
        self.drop("cust1")
        self.sql("CREATE VIEW nar_customers AS SELECT * FROM cust")
        self.register(
            "customers",
            {
                "customer_id": "n.customer_id",
                "first_name": "n.first_name",
                "last_name": "n.last_name",
                "email": "n.email",
                "phone": "n.phone",
                "birth_date": "n.birth_date",
                "street_address": "n.street_address",
                "postcode": "n.postcode",
                "city": "n.city",
                "country": "n.country",
                "signup_at": "ts_txt(n.signup_s)",
                "gender": "n.gender",
                "crm_note": "n.crm_note",
            },
            extra="n.alt_street AS _alt_street",
        )

    # ---- products -----------------------------------------------------------------------
    def products(self) -> None:
        cat = self.category_case("u('pcat', i)")
        self.sql(f"""CREATE TABLE prod AS
            WITH b AS (
                SELECT i, 1000 + i AS product_id, {cat} AS cat_idx
                FROM range(1, {N_PRODUCTS + 1}) r(i)
            ), c AS (
                SELECT b.*, c.category, s.subcategory, s.noun,
                       c.median_price * s.price_factor
                           * exp(0.5 * nrm(u('pz1', i), u('pz2', i))) AS raw_price
                FROM b JOIN categories c USING (cat_idx)
                JOIN subcategories s ON s.cat_idx = b.cat_idx
                                    AND s.sub_idx = floor(u('psub', i) * c.n_sub)
            )
            SELECT product_id, product_id AS _rn, cat_idx, category, subcategory,
                   {sql_list(BRANDS)}[1 + (h2('brand', i, 0) % {len(BRANDS)})::INT] || ' '
                   || {sql_list(ADJECTIVES)}[1 + (h2('adj', i, 0) % {len(ADJECTIVES)})::INT]
                   || ' ' || noun
                   || CASE WHEN u('model', i) < 0.35
                           THEN ' ' || chr(65 + (h2('model', i, 0) % 26)::INT)
                                || (100 + h2('model', i, 1) % 900)::VARCHAR ELSE '' END
                       AS product_name,
                   (CASE WHEN raw_price >= 100 THEN floor(raw_price / 10) * 10 + 9.99
                         WHEN u('p49', i) < 0.3 THEN greatest(floor(raw_price), 0) + 0.49
                         ELSE greatest(floor(raw_price), 1) - 0.01 END)::DECIMAL(10, 2)
                       AS list_price,
                   ((row_number() OVER (PARTITION BY cat_idx ORDER BY u('pop', i), i)) - 1)::INT
                       AS pop_rank
            FROM c""")
        counts = dict(
            self.con.execute("SELECT cat_idx, count(*) FROM prod GROUP BY cat_idx").fetchall()
        )
        self.cat_sizes = [int(counts.get(i, 0)) for i in range(len(CATEGORIES))]
        if min(self.cat_sizes) == 0:
            raise RuntimeError("every product category needs at least one product")
        self.sql("CREATE VIEW nar_products AS SELECT * FROM prod")
        self.register(
            "products",
            {
                "product_id": "n.product_id",
                "product_name": "n.product_name",
                "category": "n.category",
                "subcategory": "n.subcategory",
                "list_price": "n.list_price",
            },
        )

    def cat_size(self, cat: str) -> str:
        """SQL: number of products in category ``cat`` (an index expression)."""
        return f"{sql_list(self.cat_sizes)}[({cat}) + 1]"

    def pick_day_time(self, src: str, key: str, salt: str) -> str:
        """SQL (a full SELECT) sampling a timestamp after each row's first eligible day.

        ``src`` must expose: ``key`` (unique), profile, first_day, signup_s, pref_hour,
        hour_focus. Returns the rows of src plus ``ts`` (epoch seconds) and ``promo``.
        """
        p = self.p
        return f"""
            WITH t AS (
                SELECT s.*, f.cum_lo + u('{salt}d', {key}) * (1 - f.cum_lo) AS target
                FROM {src} s JOIN cal f ON f.profile = s.profile AND f.day = s.first_day
            ), d AS (
                SELECT t.*, c.day AS pick_day, c.promo,
                       CASE WHEN u('{salt}f', {key}) < t.hour_focus
                            THEN (t.pref_hour + floor(u('{salt}o', {key}) * 3)::INT + 23) % 24
                            ELSE hour_of(u('{salt}h', {key})) END AS hour
                FROM t ASOF JOIN cal c ON c.profile = t.profile AND t.target >= c.cum_lo
            ), x AS (
                SELECT d.*, {p.win_s} + pick_day * 86400 + hour * 3600
                            + floor(u('{salt}s', {key}) * 3600)::BIGINT AS ts0
                FROM d
            )
            SELECT x.* EXCLUDE (ts0, target, hour),
                   CASE WHEN ts0 > signup_s THEN ts0
                        ELSE signup_s + 120 + floor(u('{salt}a', {key}) * 3600)::BIGINT END AS ts
            FROM x"""

    # ---- orders and order items ---------------------------------------------------------
    def orders(self) -> None:
        p = self.p
        self.sql("""CREATE TABLE ord_src AS
            SELECT customer_id, profile, first_day, signup_s, pref_hour, hour_focus,
                   customer_id * 100 + unnest(range(n_orders)) AS okey
            FROM cust WHERE n_orders > 0""")
        self.sql(f"""CREATE TABLE ord1 AS
            SELECT okey, customer_id, ts, promo,
                   1000000 + row_number() OVER (ORDER BY ts, okey) AS order_id
            FROM ({self.pick_day_time("ord_src", "okey", "o")})
            WHERE ts < {p.end_s}""")
        self.drop("ord_src")
        n_items = weighted_case(
            "u('nitems', o.order_id)", [(1, 0.42), (2, 0.28), (3, 0.16), (4, 0.09), (5, 0.05)]
        )
        qty = weighted_case(
            "u2('qty', order_id, line)", [(1, 0.86), (2, 0.10), (3, 0.03), (4, 0.01)]
        )
        # Lines of one order that fall into the same category take consecutive popularity
        # ranks from a per-(order, category) start, so an order never lists a product twice.
        self.sql(f"""CREATE TABLE oi AS
            WITH o AS (
                SELECT o.order_id, o.promo, c.fav1, c.fav2,
                       unnest(range({n_items})) AS line
                FROM ord1 o JOIN cust c USING (customer_id)
            ), k AS (
                SELECT order_id, promo, line,
                       CASE WHEN u2('icat', order_id, line) < 0.55 THEN fav1
                            WHEN u2('icat', order_id, line) < 0.75 THEN coalesce(fav2, fav1)
                            ELSE {self.category_case("u2('icat2', order_id, line)")} END
                           AS cat_idx
                FROM o
            ), r AS (
                SELECT k.*, ((floor({self.cat_size("cat_idx")}
                                    * pow(u2('irank', order_id, cat_idx), 2.2))::INT + line)
                             % {self.cat_size("cat_idx")})::INT AS pop_rank
                FROM k
            )
            SELECT row_number() OVER (ORDER BY r.order_id, r.line) AS order_item_id,
                   r.order_id, r.line, pr.product_id, pr.cat_idx, {qty} AS quantity,
                   CASE WHEN u2('disc', order_id, line)
                             < CASE WHEN promo THEN 0.6 ELSE 0.15 END
                        THEN round(list_price * (1 - [0.10, 0.15, 0.20, 0.25, 0.30][
                                 1 + (h2('discp', order_id, line) % 5)::INT]::DECIMAL(4, 2)), 2)
                        ELSE list_price END::DECIMAL(12, 2) AS unit_price
            FROM r JOIN prod pr USING (cat_idx, pop_rank)""")
        status = f"""CASE WHEN o.ts >= {p.end_s - 4 * 86400}
                THEN {
            weighted_case(
                "u('st', o.order_id)", [("shipped", 0.72), ("completed", 0.22), ("cancelled", 0.06)]
            )
        }
                ELSE {
            weighted_case(
                "u('st', o.order_id)",
                [("completed", 0.868), ("cancelled", 0.05), ("returned", 0.06), ("shipped", 0.022)],
            )
        } END"""
        rand_channel = weighted_case(
            "u('ch2', o.order_id)",
            [("web", 0.48), ("app", 0.30), ("marketplace", 0.14), ("store", 0.08)],
        )
        self.sql(f"""CREATE TABLE ord AS
            WITH t AS (
                SELECT order_id, sum(quantity * unit_price)::DECIMAL(14, 2) AS total,
                       count(*) AS n_lines
                FROM oi GROUP BY order_id
            )
            SELECT o.order_id, o.order_id AS _rn, o.customer_id, o.ts, t.total, t.n_lines,
                   {status} AS status,
                   CASE WHEN u('chp', o.order_id) < 0.75 THEN c.pref_channel
                        ELSE {rand_channel} END AS channel,
                   c.currency,
                   CASE WHEN u('ship', o.order_id) < 0.92 THEN c.postcode
                        ELSE {postcode_sql("spc", "o.order_id")} END AS shipping_postcode,
                   lpad((h2('card', c.customer_id,
                             floor(u('cardk', o.order_id) * c.n_cards)::INT) % 10000)::VARCHAR,
                        4, '0') AS card_last4
            FROM ord1 o JOIN t USING (order_id)
            JOIN cust c USING (customer_id)
            JOIN areas a ON a.country_code = c.country
                        AND a.idx = {self.area_idx("c.country", "u('sarea', o.order_id)")}""")
        self.drop("ord1")
        self.sql("CREATE VIEW nar_orders AS SELECT * FROM ord")
        self.register(
            "orders",
            {
                "order_id": "n.order_id",
                "customer_id": "n.customer_id",
                "ordered_at": "ts_txt(n.ts)",
                "status": "n.status",
                "channel": "n.channel",
                "currency": "n.currency",
                "total_amount": "n.total",
                "shipping_postcode": "n.shipping_postcode",
                "payment_card_last4": "n.card_last4",
            },
        )
        self.sql("CREATE VIEW nar_order_items AS SELECT *, order_item_id AS _rn FROM oi")
        self.register(
            "order_items",
            {
                "order_item_id": "n.order_item_id",
                "order_id": "n.order_id",
                "product_id": "n.product_id",
                "quantity": "n.quantity",
                "unit_price": "n.unit_price",
            },
        )

    # ---- web events ---------------------------------------------------------------------
    def web_events(self) -> None:
        p = self.p
        n_anon = max(0, round(p.customers * p.days / 365 * ANON_SESSIONS_PER_CUSTOMER_YEAR))
        anon_device = weighted_case("u('adev', sk)", [(1, 0.58), (0, 0.34), (2, 0.08)])
        rand_device = weighted_case("u('rdev', sk)", [(1, 0.55), (0, 0.37), (2, 0.08)])
        kind_known = weighted_case(
            "u('skind', sk)", [(K_BROWSE, 0.45), (K_CART, 0.35), (K_CHECKOUT, 0.20)]
        )
        kind_anon = weighted_case(
            "u('skind', sk)", [(K_BROWSE, 0.70), (K_CART, 0.22), (K_CHECKOUT, 0.08)]
        )
        body = "1 + least(12, floor(-ln(1 - u('nbody', sk)) * 2.3)::INT)"
        # known-customer browsing sessions: time sampled like orders (after signup)
        self.sql("""CREATE TABLE bs_src AS
            SELECT customer_id, profile, first_day, signup_s, pref_hour, hour_focus,
                   2000000000000 + customer_id * 1000 + unnest(range(least(n_browse, 300))) AS sk
            FROM cust WHERE n_browse > 0""")
        self.sql(f"""CREATE TABLE sess0 AS
            WITH bs AS (
                SELECT sk, customer_id, ts AS start_s
                FROM ({self.pick_day_time("bs_src", "sk", "b")})
                WHERE ts < {p.end_s}
            ), an AS (
                SELECT a.sk, {p.win_s} + c.day * 86400 + hour_of(u('anonh', a.sk)) * 3600
                             + floor(u('anons', a.sk) * 3600)::BIGINT AS start_s
                FROM (SELECT 3000000000000 + i AS sk, u('anond', i) AS target
                      FROM range({n_anon}) r(i)) a
                ASOF JOIN cal c ON c.profile = 0 AND a.target >= c.cum_lo
            ), s AS (
                SELECT 1000000000000 + o.order_id AS sk, o.customer_id, o.order_id,
                       {K_PURCHASE} AS kind, 0 AS nb, least(o.n_lines, 2)::INT AS nk,
                       NULL::BIGINT AS start_s, o.ts AS end_s, o.channel = 'app' AS is_app
                FROM ord o
                WHERE o.channel IN ('web', 'app') AND u('track', o.order_id) < {P_TRACKED_PURCHASE}
                  AND o.ts >= {p.win_s + 3600}
                UNION ALL
                SELECT sk, customer_id, NULL, {kind_known}, {body}, 0, start_s, NULL, FALSE
                FROM bs
                UNION ALL
                SELECT sk, NULL, NULL, {kind_anon}, {body}, 0, start_s, NULL, FALSE
                FROM an
            )
            SELECT s.*, c.fav1, c.fav2, c.device AS cdev,
                   i1.product_id AS p1, i1.cat_idx AS c1, i2.product_id AS p2, i2.cat_idx AS c2
            FROM s LEFT JOIN cust c USING (customer_id)
            LEFT JOIN oi i1 ON i1.order_id = s.order_id AND i1.line = 0
            LEFT JOIN oi i2 ON i2.order_id = s.order_id AND i2.line = 1""")
        self.drop("bs_src")
        ua_off = sql_list(UA_OFFSET)
        ua_n = sql_list([len(USER_AGENTS[d]) for d in DEVICES])
        off = "(({pos}) * 20 + floor(({pos}) * pace)::BIGINT + (h2('joff', sk, {pos}) % 19))"
        self.sql(f"""CREATE TABLE sess AS
            WITH a AS (
                SELECT *,
                       CASE kind WHEN {K_PURCHASE} THEN 3 + 2 * nk WHEN {K_BROWSE} THEN nb
                                 WHEN {K_CART} THEN nb + 2 ELSE nb + 3 END AS len,
                       60 * u('pace', sk) AS pace,
                       CASE WHEN is_app THEN 3
                            WHEN customer_id IS NULL THEN {anon_device}
                            WHEN u('owndev', sk) < 0.75 THEN cdev
                            ELSE {rand_device} END AS dev
                FROM sess0
            ), b AS (
                SELECT *, coalesce(start_s, end_s - {off.format(pos="len - 1")}) AS st
                FROM a
            ), c AS (
                SELECT *, CASE WHEN kind = {K_PURCHASE} THEN len
                               ELSE least(len, greatest(0, ({p.end_s} - st - 20)
                                                         // (20 + ceil(pace)::BIGINT) + 1))
                          END AS len_eff
                FROM b WHERE st >= {p.win_s}
            )
            SELECT sk, customer_id, kind, nb, nk, pace, st AS start_s, fav1, fav2,
                   p1, c1, p2, c2, len_eff::BIGINT AS len_eff,
                   customer_id IS NOT NULL AND u('homeip', sk) < 0.7 AS home_ip,
                   ({ua_off}[dev + 1] + h2('ua', sk, 0) % {ua_n}[dev + 1])::INT AS ua_idx,
                   sum(len_eff) OVER (ORDER BY st, sk ROWS UNBOUNDED PRECEDING) - len_eff
                       AS base_id
            FROM c WHERE len_eff > 0""")
        self.drop("sess0")
        glob_cat = self.category_case("u2('gcat', sk, pkey)")
        n_cat = len(CATEGORIES)
        cat_pick = (
            f"CASE WHEN customer_id IS NOT NULL AND u2('pcf', sk, pos) < 0.6 THEN fav1 "
            f"ELSE floor(u2('pcr', sk, pos) * {n_cat})::INT END"
        )
        self.sql(f"""CREATE TABLE ev AS
            WITH e AS (
                SELECT sk, customer_id, kind, nb, nk, pace, start_s, base_id, fav1, fav2,
                       p1, c1, p2, c2, home_ip, ua_idx, unnest(range(len_eff)) AS pos
                FROM sess
            ), t AS (
                SELECT e.*,
                    CASE WHEN kind = {K_PURCHASE} THEN
                            CASE WHEN pos = 0 THEN 0
                                 WHEN pos <= 2 * nk AND pos % 2 = 1 THEN 1
                                 WHEN pos <= 2 * nk THEN 2
                                 WHEN pos = 2 * nk + 1 THEN 3
                                 ELSE 4 END
                         WHEN pos < nb THEN
                            CASE WHEN pos > 0 AND u2('btype', sk, pos) < 0.5 THEN 1 ELSE 0 END
                         WHEN pos = nb THEN 1
                         WHEN pos = nb + 1 THEN 2
                         ELSE 3 END AS et,
                    CASE WHEN kind <> {K_PURCHASE} AND pos >= nb THEN -1 ELSE pos END AS pkey
                FROM e
            ), c AS (
                SELECT t.*,
                    CASE WHEN et IN (1, 2) AND kind <> {K_PURCHASE} THEN
                        CASE WHEN customer_id IS NOT NULL AND u2('ecat', sk, pkey) < 0.5
                                 THEN fav1
                             WHEN customer_id IS NOT NULL AND u2('ecat', sk, pkey) < 0.7
                                 THEN coalesce(fav2, fav1)
                             ELSE {glob_cat} END END AS bcat
                FROM t
            ), r AS (
                SELECT c.*, floor({self.cat_size("bcat")} * pow(u2('erank', sk, pkey), 2.2))::INT
                                AS brank
                FROM c
            )
            SELECT r.base_id + r.pos + 1 AS event_id, r.base_id + r.pos + 1 AS _rn,
                   r.customer_id, r.sk, r.et::TINYINT AS et,
                   (CASE WHEN r.et IN (3, 4) THEN {PG_CHECKOUT}
                         WHEN r.et IN (1, 2)
                             THEN coalesce(pr.cat_idx, CASE WHEN r.pos <= 2 THEN r.c1
                                                            ELSE r.c2 END)
                         WHEN r.pos = 0 THEN
                            CASE WHEN u2('pcat', sk, pos) < 0.45 THEN {PG_HOME}
                                 WHEN u2('pcat', sk, pos) < 0.65 THEN {PG_SEARCH}
                                 ELSE {cat_pick} END
                         ELSE CASE WHEN u2('pcat', sk, pos) < 0.15 THEN {PG_SEARCH}
                                   WHEN u2('pcat', sk, pos) < 0.22 THEN {PG_ACCOUNT}
                                   WHEN u2('pcat', sk, pos) < 0.30 THEN {PG_HOME}
                                   ELSE {cat_pick} END END)::TINYINT AS pc,
                   CASE WHEN r.et IN (1, 2)
                        THEN coalesce(pr.product_id, CASE WHEN r.pos <= 2 THEN r.p1
                                                          ELSE r.p2 END) END AS product_id,
                   (r.start_s + {off.format(pos="r.pos")}) * 1000
                       + (h2('ems', sk, pos) % 1000) AS ts_ms,
                   r.home_ip, r.ua_idx::TINYINT AS ua_idx, r.pos = 0 AS first_event
            FROM r LEFT JOIN prod pr ON pr.cat_idx = r.bcat AND pr.pop_rank = r.brank""")
        self.drop("sess")
        ref = weighted_case("u('ref', n.sk)", REFERRERS)
        self.sql("CREATE VIEW nar_web_events AS SELECT * FROM ev")
        self.register(
            "web_events",
            {
                "event_id": "n.event_id",
                "customer_id": "n.customer_id",
                "session_id": "((h2('sid', n.sk, 1)::UHUGEINT << 64) + h2('sid', n.sk, 2))::UUID",
                "event_type": f"{sql_list(WEB_EVENT_TYPES)}[n.et + 1]",
                "page_category": f"{sql_list(PAGE_CATEGORIES)}[n.pc + 1]",
                "product_id": "n.product_id",
                "occurred_at": "ts_iso(n.ts_ms)",
                "ip_address": "CASE WHEN n.home_ip THEN ipv4(n.customer_id) ELSE ipv4(n.sk) END",
                "user_agent": f"{sql_list(UA_FLAT)}[n.ua_idx + 1]",
                "referrer": f"CASE WHEN n.first_event THEN {ref} "
                f"ELSE 'https://shop.example.com/' END",
            },
        )

    # ---- campaigns and email events -----------------------------------------------------
    def campaigns(self) -> None:
        p = self.p
        n = max(1, round(p.days * 2 / 7))
        objective = weighted_case(
            "u('obj', i)",
            [
                ("promotion", 0.45),
                ("newsletter", 0.35),
                ("winback", 0.10),
                ("product_launch", 0.10),
            ],
        )
        self.sql(f"""CREATE TABLE camp AS
            WITH b AS (
                SELECT i, 501 + i AS campaign_id, {objective} AS objective,
                       {p.win_s} + least({p.days - 1},
                           floor((i + 0.15 + 0.7 * u('cday', i)) * {p.days} / {n}))::BIGINT
                           * 86400 + 8 * 3600 + floor(u('ctime', i) * 10800)::BIGINT
                           AS launch_s
                FROM range({n}) r(i)
            ), c AS (
                SELECT b.*, make_timestamp(launch_s * 1000000) AS lt FROM b
            )
            SELECT campaign_id, campaign_id AS _rn, objective, launch_s,
                   CASE objective
                       WHEN 'promotion' THEN
                           CASE WHEN month(lt) = 11 AND day(lt) >= 18 THEN 'Black Friday Deals'
                                WHEN month(lt) = 12 THEN 'Holiday Gift Guide'
                                WHEN month(lt) IN (1, 2) THEN 'Winter Sale'
                                WHEN month(lt) IN (3, 4, 5) THEN 'Spring Sale'
                                WHEN month(lt) IN (6, 7) THEN 'Summer Sale'
                                WHEN month(lt) = 8 THEN 'Back to School'
                                ELSE 'Autumn Offers' END || ' ' || strftime(lt, '%Y')
                           || ' #' || (i + 1)::VARCHAR
                       WHEN 'newsletter' THEN 'Newsletter ' || strftime(lt, '%Y-%m-%d')
                       WHEN 'winback' THEN 'We miss you - ' || strftime(lt, '%B %Y')
                       ELSE 'New in ' || {sql_list([c[0] for c in CATEGORIES])}[
                                1 + (h2('launchcat', i, 0) % {len(CATEGORIES)})::INT]
                            || ' ' || strftime(lt, '%Y-%m-%d') END AS campaign_name
            FROM c""")
        self.sql("CREATE VIEW nar_campaigns AS SELECT * FROM camp")
        self.register(
            "campaigns",
            {
                "campaign_id": "n.campaign_id",
                "campaign_name": "n.campaign_name",
                "channel": "'email'",
                "objective": "n.objective",
                "launched_at": "ts_txt(n.launch_s)",
            },
        )

    def email_events(self) -> None:
        p = self.p
        self.sql(f"""CREATE TABLE em AS
            WITH s AS (
                SELECT c.campaign_id, k.customer_id, k.engage,
                       c.launch_s + floor(u2('sendt', c.campaign_id, k.customer_id) * 10800)
                           ::BIGINT AS send_s
                FROM camp c, cust k
                WHERE k.signup_s < c.launch_s
                  AND u2('send', c.campaign_id, k.customer_id) < {CAMPAIGN_SAMPLE}
            ), o AS (
                SELECT s.*,
                    u2('open', campaign_id, customer_id) < 0.4 * engage AS opened,
                    send_s + 60 + least(7 * 86400, floor(-ln(1 - u2('opent', campaign_id,
                        customer_id)) * 6 * 3600))::BIGINT AS open_s
                FROM s
            ), c AS (
                SELECT o.*,
                    opened AND u2('click', campaign_id, customer_id) < 0.225 * engage
                        AS clicked,
                    open_s + 5 + floor(u2('clickt', campaign_id, customer_id) * 600)::BIGINT
                        AS click_s,
                    u2('unsub', campaign_id, customer_id) < 0.006 * (1 - engage) AS unsub,
                    CASE WHEN opened THEN open_s ELSE send_s END + 60
                        + floor(u2('unsubt', campaign_id, customer_id) * 2 * 86400)::BIGINT
                        AS unsub_s
                FROM o
            ), e AS (
                SELECT campaign_id, customer_id, 0 AS et, send_s AS ts FROM c
                UNION ALL
                SELECT campaign_id, customer_id, 1, open_s FROM c WHERE opened
                UNION ALL
                SELECT campaign_id, customer_id, 2, click_s FROM c WHERE clicked
                UNION ALL
                SELECT campaign_id, customer_id, 3, unsub_s FROM c WHERE unsub
            )
            SELECT row_number() OVER (ORDER BY ts, campaign_id, customer_id, et) AS _rn,
                   campaign_id::INT AS campaign_id, customer_id, et::TINYINT AS et, ts
            FROM e WHERE ts < {p.end_s}""")
        self.sql("CREATE VIEW nar_email_events AS SELECT * FROM em")
        self.register(
            "email_events",
            {
                "email_event_id": "n._rn",
                "campaign_id": "n.campaign_id",
                "customer_id": "n.customer_id",
                "event_type": f"{sql_list(EMAIL_EVENT_TYPES)}[n.et + 1]",
                "occurred_at": "ts_txt(n.ts)",
            },
        )

    # ---- consent ------------------------------------------------------------------------
    def consent_events(self) -> None:
        p = self.p
        t_start = p.win_s - 3 * 365 * 86400
        v2, v3 = p.end_s - 200 * 86400, p.end_s - 60 * 86400
        # purpose: (grant probability at mid-period, drift over the 3-4 years)
        purposes = ", ".join(
            f"({i}, {base!r}, {drift!r})"
            for i, (base, drift) in enumerate([(0.76, -0.08), (0.51, -0.06), (0.37, -0.12)])
        )
        src = {s: i for i, s in enumerate(CONSENT_SOURCES)}
        src0 = f"""CASE WHEN c.signup_s < {p.win_s - 365 * 86400}
                             AND u2('imp', customer_id, pidx) < 0.5 THEN {src["import"]}
                        WHEN pidx = 2 THEN
                            CASE WHEN u2('src', customer_id, pidx) < 0.55 THEN {src["checkout"]}
                                 ELSE {src["preference_center"]} END
                        WHEN u2('src', customer_id, pidx) < 0.7 THEN {src["cookie_banner"]}
                        ELSE {src["preference_center"]} END"""
        later_src = (
            f"CASE WHEN u2('lsrc', customer_id, pidx) < 0.7 "
            f"THEN {src['preference_center']} ELSE {src['cookie_banner']} END"
        )

        def after(t: str, salt: str) -> str:
            return (
                f"{t} + 1 + floor(u2('{salt}', customer_id, pidx) * ({p.end_s} - {t} - 2))::BIGINT"
            )

        def reconsent(v: int, salt: str) -> str:
            span = min(45 * 86400, p.end_s - v - 1)
            return f"{v} + floor(u2('{salt}', customer_id, pidx) * {span})::BIGINT"

        # action: 0 granted, 1 withdrawn (an initial refusal is recorded as 'withdrawn')
        self.sql(f"""CREATE TABLE cons AS
            WITH cp AS (
                SELECT c.customer_id, c.signup_s, c.priv, pp.*,
                       c.signup_s + floor(u2('ct0', c.customer_id, pp.pidx) * 300)::BIGINT
                           AS t0
                FROM cust c CROSS JOIN (VALUES {purposes}) pp(pidx, base, drift)
            ), d AS (
                SELECT c.*,
                    CASE WHEN u2('csel', customer_id, pidx) < 0.35 THEN priv
                         ELSE u2('cg', customer_id, pidx) END
                    < base + drift * ((t0 - {t_start}) / {p.end_s - t_start}.0 - 0.5)
                        AS granted0,
                    {src0} AS source0
                FROM cp c WHERE t0 < {p.end_s}
            ), w AS (
                SELECT d.*,
                    granted0 AND u2('wd', customer_id, pidx) < 0.08
                        AND t0 < {p.end_s - 2} AS withdraws,
                    {after("t0", "wdt")} AS tw,
                    NOT granted0 AND u2('late', customer_id, pidx) < 0.04
                        AND t0 < {p.end_s - 2} AS late_grant
                FROM d
            ), r AS (
                SELECT w.*,
                    withdraws AND u2('rg', customer_id, pidx) < 0.25
                        AND tw < {p.end_s - 2} AS regrants,
                    {after("tw", "rgt")} AS tr
                FROM w
            ), e AS (
                SELECT customer_id, pidx, t0 AS ts, 0 AS seq,
                       CASE WHEN granted0 THEN 0 ELSE 1 END AS action, source0 AS source
                FROM r
                UNION ALL
                SELECT customer_id, pidx, tw, 1, 1, {later_src} FROM r WHERE withdraws
                UNION ALL
                SELECT customer_id, pidx, tr, 2, 0, {src["preference_center"]}
                FROM r WHERE regrants
                UNION ALL
                SELECT customer_id, pidx, {after("t0", "lgt")}, 1, 0, {later_src}
                FROM r WHERE late_grant
                UNION ALL
                SELECT customer_id, pidx, {reconsent(v2, "rc2t")}, 3, 0, {later_src}
                FROM r WHERE granted0 AND NOT withdraws AND t0 < {v2}
                         AND u2('rc2', customer_id, pidx) < 0.25
                UNION ALL
                SELECT customer_id, pidx, {reconsent(v3, "rc3t")}, 4,
                       CASE WHEN u2('rc3a', customer_id, pidx) < 0.9 THEN 0 ELSE 1 END,
                       {later_src}
                FROM r WHERE granted0 AND NOT withdraws AND t0 < {v3}
                         AND u2('rc3', customer_id, pidx) < 0.25
            )
            SELECT row_number() OVER (ORDER BY ts, customer_id, pidx, seq) AS _rn,
                   customer_id, pidx::TINYINT AS pidx, action::TINYINT AS action,
                   source::TINYINT AS source, ts
            FROM e WHERE ts < {p.end_s}""")
        self.sql("CREATE VIEW nar_consent_events AS SELECT * FROM cons")
        self.register(
            "consent_events",
            {
                "consent_event_id": "n._rn",
                "customer_id": "n.customer_id",
                "purpose": f"{sql_list(PURPOSES)}[n.pidx + 1]",
                "action": f"{sql_list(CONSENT_ACTIONS)}[n.action + 1]",
                "source": f"{sql_list(CONSENT_SOURCES)}[n.source + 1]",
                "policy_version": f"CASE WHEN n.ts >= {v3} THEN '3' WHEN n.ts >= {v2} THEN '2' "
                f"ELSE '1' END",
                "recorded_at": "ts_txt(n.ts)",
            },
        )

    # ---- preferences and erasure requests -----------------------------------------------
    def preferences(self) -> None:
        p = self.p
        cats = sql_list([c[0] for c in CATEGORIES])
        n = len(CATEGORIES)
        chan = weighted_case(
            "u('pfch', customer_id)",
            [("email", 0.45), ("app", 0.25), ("sms", 0.10), ("none", 0.20)],
        )
        freq = weighted_case(
            "u('pffr', customer_id)", [("weekly", 0.55), ("monthly", 0.35), ("daily", 0.10)]
        )
        self.sql(f"""CREATE TABLE pref AS
            WITH b AS (
                SELECT customer_id, signup_s,
                    [CASE WHEN u('pi1', customer_id) < 0.7 THEN fav1
                          ELSE (h2('pi1c', customer_id, 0) % {n})::INT END,
                     CASE WHEN fav2 IS NOT NULL AND u('pi2', customer_id) < 0.6 THEN fav2 END,
                     CASE WHEN u('pi3', customer_id) < 0.3
                          THEN (h2('pi3c', customer_id, 0) % {n})::INT END] AS ints
                FROM cust WHERE u('haspref', customer_id) < 0.3
            )
            SELECT customer_id, customer_id AS _rn,
                   array_to_string(list_sort(list_distinct(
                       list_transform(list_filter(ints, lambda x: x IS NOT NULL),
                                      lambda x: {cats}[x + 1]))), '|') AS stated_interests,
                   {chan} AS preferred_channel, {freq} AS preferred_frequency,
                   signup_s + floor(pow(u('pfts', customer_id), 0.7)
                                    * ({p.end_s} - signup_s - 1))::BIGINT AS ts
            FROM b""")
        self.sql("CREATE VIEW nar_preferences AS SELECT * FROM pref")
        self.register(
            "preferences",
            {
                "customer_id": "n.customer_id",
                "stated_interests": "n.stated_interests",
                "preferred_channel": "n.preferred_channel",
                "preferred_frequency": "n.preferred_frequency",
                "updated_at": "ts_txt(n.ts)",
            },
        )

    def erasure_requests(self) -> None:
        p = self.p
        self.sql(f"""CREATE TABLE era AS
            WITH b AS (
                SELECT customer_id, greatest(signup_s, {p.win_s}) AS lo
                FROM cust WHERE u('erase', customer_id) < 0.01
            ), t AS (
                SELECT customer_id,
                       lo + floor(u('erat', customer_id) * ({p.end_s} - lo))::BIGINT AS ts
                FROM b
            ), r AS (
                SELECT *, row_number() OVER (ORDER BY ts, customer_id) AS id FROM t
                WHERE ts < {p.end_s}
            )
            SELECT id AS _rn, customer_id, ts,
                   CASE WHEN ts >= {p.end_s - 30 * 86400}
                        THEN {
            weighted_case(
                "u('erst', id)", [("received", 0.6), ("completed", 0.37), ("rejected", 0.03)]
            )
        }
                        ELSE {
            weighted_case("u('erst', id)", [("completed", 0.93), ("rejected", 0.07)])
        } END
                       AS status
            FROM r""")
        self.sql("CREATE VIEW nar_erasure_requests AS SELECT * FROM era")
        self.register(
            "erasure_requests",
            {
                "request_id": "n._rn",
                "customer_id": "n.customer_id",
                "requested_at": "ts_txt(n.ts)",
                "status": "n.status",
            },
        )

    # ---- faults -------------------------------------------------------------------------
    def faults(self, table: str) -> dict[str, int]:
        """Insert faulty copies of clean rows into flt_<table>; return counts per kind."""
        p = self.p
        spec = TABLE_SPECS[table]
        cols = TABLE_COLUMNS[table]
        kinds = applicable_kinds(table)
        col_defs = ", ".join(f"{c} VARCHAR" for c in cols)
        self.sql(f"CREATE TABLE flt_{table} ({col_defs}, _sk BIGINT, _sk2 BIGINT, kind VARCHAR)")
        counts = dict.fromkeys(kinds, 0)
        clean = self.count(f"nar_{table}")
        if p.fault_rate <= 0 or clean == 0:
            return counts
        per_kind = math.ceil(Fraction(str(p.fault_rate)) * clean / len(kinds))
        if table == "preferences":
            # A "fresh" primary id for preferences is a real customer without preferences.
            self.sql("""CREATE TABLE pref_free AS
                SELECT (row_number() OVER (ORDER BY h2('pfree', customer_id, 0), customer_id))
                           - 1 AS _i, customer_id::VARCHAR AS cid
                FROM cust ANTI JOIN pref USING (customer_id)""")

        def ts_future() -> str:
            sec = (
                f"{p.end_s} + (30 + h2('fut', '{table}', s._k) % 370) * 86400 "
                f"+ h2('futs', '{table}', s._k) % 86400"
            )
            return f"ts_iso(({sec}) * 1000)" if spec.ts_iso else f"ts_txt({sec})"

        # (kind, rows, eligibility over nar_<table>, replacements, fresh primary id?)
        jobs: list[tuple[str, int, str, dict[str, str], bool]] = []
        for kind in kinds:
            if kind == "orphan_fk":  # split this kind's rows across the table's foreign keys
                n_fk = len(spec.fks)
                for j, (fk, where) in enumerate(spec.fks):
                    k = per_kind // n_fk + (1 if j < per_kind % n_fk else 0)
                    if k:
                        jobs.append((kind, k, where, {fk: "__ORPHAN__"}, fk != spec.pk))
                continue
            repl: dict[str, str] = {}
            where = "TRUE"
            fresh = kind not in ("null_id", "duplicate_id")
            if kind == "null_id":
                repl[spec.pk] = "CASE s._k % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE '   ' END"
            elif kind == "wrong_type":
                repl[spec.wrong_type] = f"{sql_list(WRONG_TYPE_VALUES)}[1 + s._k % 4]"
                where = spec.wrong_type_where
                fresh = spec.wrong_type != spec.pk
            elif kind == "unparseable_timestamp" and spec.ts:
                repl[spec.ts] = f"{sql_list(UNPARSEABLE_TIMESTAMPS)}[1 + s._k % 3]"
            elif kind == "future_timestamp" and spec.ts:
                repl[spec.ts] = ts_future()
            elif kind == "non_numeric_amount" and spec.amount:
                repl[spec.amount] = f"{sql_list(NON_NUMERIC_AMOUNTS)}[1 + s._k % 3]"
            elif kind == "negative_amount" and spec.amount:
                repl[spec.amount] = f"'-' || s.{spec.amount}"
            elif kind == "unknown_enum":
                n_enum = len(spec.enums)
                for j, (col, bad) in enumerate(spec.enums):
                    repl[col] = f"CASE WHEN s._k % {n_enum} = {j} THEN {_lit(bad)} ELSE s.{col} END"
            elif kind == "duplicate_id":
                repl.update(spec.duplicate)
            jobs.append((kind, per_kind, where, repl, fresh))

        fresh_next, orphan_next, fresh_used, seq = FRESH_ID_BASE, ORPHAN_ID_BASE, 0, 0
        extra = self.extra[table]
        sep = ", " if extra else ""
        for kind, k, where, repl, fresh in jobs:
            repl = dict(repl)
            join = ""
            for col, expr in list(repl.items()):
                if expr == "__ORPHAN__":
                    repl[col] = f"({orphan_next} + s._k)::VARCHAR"
                    orphan_next += k
            if fresh:
                if table == "preferences":
                    repl[spec.pk] = "f.cid"
                    join = f"JOIN pref_free f ON f._i = {fresh_used} + s._k"
                    fresh_used += k
                else:
                    repl[spec.pk] = f"({fresh_next} + s._k)::VARCHAR"
                    fresh_next += k
            select = ", ".join(f"{repl.get(c, 's.' + c)} AS {c}" for c in cols)
            salt = f"{table}:{kind}:{'/'.join(sorted(repl))}"
            # Pick k source rows by hash on the compact table, render only those rows.
            self.sql(f"""INSERT INTO flt_{table}
                WITH picked AS (
                    SELECT _rn, (row_number() OVER (ORDER BY _h, _rn)) - 1 AS _k
                    FROM (SELECT _rn, h2('fault', '{salt}', _rn) AS _h FROM nar_{table}
                          WHERE {where} ORDER BY _h, _rn LIMIT {k})
                ), src AS (
                    SELECT {self.wide[table]}{sep}{extra}, n._rn, picked._k
                    FROM nar_{table} n JOIN picked USING (_rn)
                )
                SELECT {select}, s._rn AS _sk, {seq + 1} + s._k AS _sk2, '{kind}' AS kind
                FROM src s {join}""")
            seq += k
        rows = self.con.execute(f"SELECT kind, count(*) FROM flt_{table} GROUP BY kind").fetchall()
        for kind, n in rows:
            counts[str(kind)] = int(n)
        return counts

    # ---- output -------------------------------------------------------------------------
    def write(self, table: str, path: Path) -> int:
        """Write clean + faulty rows ordered by id (faulty rows sit next to their source)."""
        cols = ", ".join(TABLE_COLUMNS[table])
        target = str(path).replace("'", "''")
        if self.count(f"flt_{table}") == 0:
            # Sort the compact rows, then render text in an order-preserving projection.
            query = f"SELECT {self.wide[table]} FROM (SELECT * FROM nar_{table} ORDER BY _rn) n"
        else:
            query = f"""SELECT {cols} FROM (
                    SELECT {self.wide[table]}, n._rn AS _sk, 0 AS _sk2 FROM nar_{table} n
                    UNION ALL
                    SELECT {cols}, _sk, _sk2 FROM flt_{table}
                ) ORDER BY _sk, _sk2"""
        self.sql(
            f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
        )
        return self.count(f"nar_{table}") + self.count(f"flt_{table}")


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate_data.py",
        description="Generate deterministic synthetic raw shop data as Parquet (all VARCHAR).",
    )
    parser.add_argument(
        "--customers", type=int, required=True, metavar="N", help="number of customers (N >= 1)"
    )
    parser.add_argument(
        "--days",
        type=int,
        required=True,
        metavar="D",
        help="length of the behavioural window in days (1..3650)",
    )
    parser.add_argument(
        "--seed", type=int, required=True, metavar="S", help="random seed (integer >= 0)"
    )
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="fault rate in [0, 1]: faulty rows added per table (default 0)",
    )
    parser.add_argument(
        "--end-date",
        default=None,
        metavar="YYYY-MM-DD",
        help="data ends the day before this date (default: today, UTC)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    return parser


def validate(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> tuple[Params, Path]:
    """Check argument ranges; ``parser.error`` exits with status 2 and a clear message."""
    if ns.customers < 1:
        parser.error(f"--customers: N must be >= 1 (got {ns.customers})")
    if ns.customers > 50_000_000:
        parser.error(f"--customers: N must be <= 50000000 (got {ns.customers})")
    if not 1 <= ns.days <= 3650:
        parser.error(f"--days: D must be between 1 and 3650 (got {ns.days})")
    if ns.seed < 0 or ns.seed >= 2**63:
        parser.error(f"--seed: S must be an integer in [0, 2^63) (got {ns.seed})")
    if not (math.isfinite(ns.faults) and 0.0 <= ns.faults <= 1.0):
        parser.error(f"--faults: RATE must be between 0 and 1 (got {ns.faults})")
    if ns.end_date is None:
        end = datetime.now(UTC).date()
    else:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ns.end_date):
            parser.error(f"--end-date: expected YYYY-MM-DD (got {ns.end_date!r})")
        try:
            end = date.fromisoformat(ns.end_date)
        except ValueError:
            parser.error(f"--end-date: not a valid date (got {ns.end_date!r})")
        if not 1900 <= end.year <= 2999:
            parser.error(f"--end-date: year must be between 1900 and 2999 (got {end.year})")
    out = Path(ns.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out: {out} exists and is not a directory")
    return Params(ns.customers, ns.days, ns.seed, ns.faults, end), out


def generate(p: Params, out: Path) -> dict[str, object]:
    """Generate every table into a temp folder next to ``out``, then move the files in place."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    con = duckdb.connect(":memory:")
    try:
        spill = str(tmp / "duckdb_spill").replace("'", "''")
        con.execute(f"SET temp_directory = '{spill}'").fetchall()
        gen = Generator(con, p)
        t0 = time.perf_counter()
        gen.setup()
        # (table, steps that build it); a step may build several tables
        plan: list[tuple[str, list[str]]] = [
            ("customers", ["customers"]),
            ("products", ["products"]),
            ("orders", ["orders"]),
            ("order_items", []),
            ("web_events", ["web_events"]),
            ("campaigns", ["campaigns"]),
            ("email_events", ["email_events"]),
            ("consent_events", ["consent_events"]),
            ("preferences", ["preferences"]),
            ("erasure_requests", ["erasure_requests"]),
        ]
        manifest_tables: dict[str, object] = {}
        for table, steps in plan:
            start = time.perf_counter()
            for step in steps:
                getattr(gen, step)()
            counts = gen.faults(table)
            clean = gen.count(f"nar_{table}")
            total = gen.write(table, tmp / f"{table}.parquet")
            if total != clean + sum(counts.values()):
                raise RuntimeError(f"row count mismatch for {table}")
            manifest_tables[table] = {"rows_clean": clean, "rows_total": total, "faults": counts}
            log(
                f"table={table} rows={total} (clean={clean}, faulty={total - clean}) "
                f"seconds={time.perf_counter() - start:.1f}"
            )
        manifest: dict[str, object] = {
            "generator": "scripts/generate_data.py",
            "seed": p.seed,
            "customers": p.customers,
            "days": p.days,
            "end_date": p.end_date.isoformat(),
            "fault_rate": p.fault_rate,
            "tables": manifest_tables,
        }
        (tmp / "generation_manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        for table in TABLE_COLUMNS:
            os.replace(tmp / f"{table}.parquet", out / f"{table}.parquet")
        os.replace(tmp / "generation_manifest.json", out / "generation_manifest.json")
        log(f"done: {len(TABLE_COLUMNS)} tables in {out} seconds={time.perf_counter() - t0:.1f}")
        return manifest
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (0 ok, 1 failure, 2 bad arguments)."""
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
        params, out = validate(parser, ns)
    except SystemExit as exc:  # argparse reports usage errors via SystemExit(2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    log(
        f"customers={params.customers} days={params.days} seed={params.seed} "
        f"faults={params.fault_rate} end_date={params.end_date} out={out}"
    )
    try:
        generate(params, out)
    except (duckdb.Error, OSError, RuntimeError) as exc:
        log(f"error: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
