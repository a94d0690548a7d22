"""Reference data of the generator: countries with their name and street pools, product
categories, device user agents, referrers, and the daily, weekly and hourly rhythm of demand.
Small lists; the rows themselves are generated in SQL."""

from __future__ import annotations

from typing import NamedTuple


class Country(NamedTuple):
    code: str
    weight: float  # share of customers
    currency: str
    number_first: bool  # street number before the street name
    streets: list[str]
    female_names: list[str]
    male_names: list[str]
    last_names: list[str]


class Subcategory(NamedTuple):
    name: str
    noun: str  # what a product of it is called, e.g. 'Sneakers'
    price_factor: float  # times the category's median price


class Category(NamedTuple):
    name: str
    weight: float  # share of demand
    median_price: float
    subcategories: list[Subcategory]


# fmt: off
_COUNTRY_ROWS: list[tuple[str, float, str, bool, list[str], list[str], list[str], list[str]]] = [
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
_CATEGORY_ROWS: list[tuple[str, float, float, list[tuple[str, str, float]]]] = [
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
# fmt: on

COUNTRIES = [Country(*row) for row in _COUNTRY_ROWS]
CATEGORIES = [
    Category(name, weight, median, [Subcategory(*sub) for sub in subs])
    for name, weight, median, subs in _CATEGORY_ROWS
]
FIRST_NAMES_PER_GENDER, LAST_NAMES, STREETS = 12, 16, 10
for _country in COUNTRIES:
    assert (
        len(_country.streets),
        len(_country.female_names),
        len(_country.male_names),
        len(_country.last_names),
    ) == (STREETS, FIRST_NAMES_PER_GENDER, FIRST_NAMES_PER_GENDER, LAST_NAMES), _country.code

# fmt: off
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
# The utm_campaign of a visit's landing page, by where the visit came from (a referrer of
# REFERRERS, None = direct); None = no campaign parameters. 'brand_search' is a campaign the
# marketing team never registered (the contextual layer reports it as 'other').
UTM_CAMPAIGNS: dict[str | None, list[tuple[str | None, float]]] = {
    'https://mail.example.com/': [('newsletter', 0.72), ('spring_sale', 0.1),
                                  ('black_friday', 0.1), (None, 0.08)],
    'https://deals.example.net/offers': [('summer_sale', 0.4), ('black_friday', 0.3),
                                         ('spring_sale', 0.2), (None, 0.1)],
    'https://www.facebook.com/': [('brand_awareness', 0.45), ('summer_sale', 0.15), (None, 0.4)],
    'https://www.instagram.com/': [('brand_awareness', 0.5), ('summer_sale', 0.15), (None, 0.35)],
    'https://www.google.com/': [('brand_search', 0.12), (None, 0.88)],
    None: [('summer_sale', 0.03), (None, 0.97)],
}
# Share of a customer's newsletter landings whose link carries a personal tracking code
# ('nl-' and the customer number): a value the contextual layer must never pass on.
P_PERSONAL_UTM = 0.05
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

# Enumerations (clean values) that are rendered from compact codes or rotated for duplicates.
ORDER_STATUSES = ["completed", "shipped", "cancelled", "returned"]
WEB_EVENT_TYPES = ["page_view", "product_view", "add_to_cart", "checkout_start", "purchase"]
EMAIL_EVENT_TYPES = ["send", "open", "click", "unsubscribe"]
PURPOSES = ["analytics", "personalization", "marketing_email"]
CONSENT_ACTIONS = ["granted", "withdrawn"]
CONSENT_SOURCES = ["preference_center", "checkout", "cookie_banner", "import"]
PREFERRED_CHANNELS = ["email", "sms", "app", "none"]
PREFERRED_FREQUENCIES = ["daily", "weekly", "monthly"]
ERASURE_STATUSES = ["received", "completed", "rejected"]

PRODUCT_COUNT = 2000
CATEGORY_NAMES = [category.name for category in CATEGORIES]

# Devices, in the order of their codes (0 desktop .. 3 app), and user agents per device, flat.
DEVICES = ["desktop", "mobile", "tablet", "app"]
USER_AGENTS_FLAT = [agent for device in DEVICES for agent in USER_AGENTS[device]]
USER_AGENT_OFFSETS = [sum(len(USER_AGENTS[d]) for d in DEVICES[:i]) for i in range(len(DEVICES))]
# Page categories: the product categories, then four pages of the shop itself.
PAGE_CATEGORIES = [*CATEGORY_NAMES, "home", "search", "account", "checkout"]
PAGE_HOME, PAGE_SEARCH, PAGE_ACCOUNT, PAGE_CHECKOUT = (len(CATEGORIES) + i for i in range(4))
