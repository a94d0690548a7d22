"""Column-level lineage: hand-written SQL, tiny schemas and a fake manifest/catalog, no dbt."""

from __future__ import annotations

import json

import pytest

from privseg.lineage import (
    AGGREGATED,
    CONSENT_FILTERED,
    GENERALIZED,
    HASHED,
    PASSED_THROUGH,
    LineageError,
    lineage_findings,
    lineage_summary,
    model_summary,
    sql_lineage,
    trace_column,
    trace_project,
)

# The project's keyed pseudonym (HMAC-SHA256 in SQL over the pads the plugin sets).
HMAC = """case
    when getvariable('pseudonym_hmac_ipad') is null or getvariable('pseudonym_hmac_opad') is null
        then error('pseudonym key not set on this DuckDB connection')
    when ({x}) is null then null
    else lower(sha256(
        getvariable('pseudonym_hmac_opad')
        || unhex(sha256(
            getvariable('pseudonym_hmac_ipad')
            || encode('customer:' || cast(({x}) as varchar))
        ))
    ))
end"""

SCHEMA = {
    "warehouse": {
        "staging": {
            "customers": {
                "customer_id": "BIGINT",
                "email": "VARCHAR",
                "birth_date": "DATE",
                "country": "VARCHAR",
                "signed_up_at": "TIMESTAMP",
                "amount": "DECIMAL(12,2)",
            },
            "orders": {"order_id": "BIGINT", "customer_id": "BIGINT", "amount": "DECIMAL(12,2)"},
        },
        "reference": {
            "age_bands": {"age_from": "INTEGER", "age_to": "INTEGER", "age_band": "VARCHAR"}
        },
        "consent": {"consented": {"customer_key": "VARCHAR", "purpose": "VARCHAR"}},
    }
}
CUSTOMERS = '"warehouse"."staging"."customers"'
ORDERS = '"warehouse"."staging"."orders"'
AGE_BANDS = '"warehouse"."reference"."age_bands"'
CONSENTED = '"warehouse"."consent"."consented"'
SEEDS = ["warehouse.reference.age_bands"]
CONSENT = ["warehouse.consent.consented"]


def flows(sql: str, **options) -> dict[str, dict[str, tuple[list[str], bool]]]:
    """{output column: {'table.column': (sorted steps, carries_value)}} of one query."""
    traced = sql_lineage(sql, SCHEMA, **options)
    assert traced.problems == []
    return {
        column: {
            f"{ref.relation.rsplit('.', 1)[-1]}.{ref.column}": (
                sorted(flow.steps),
                flow.carries_value,
            )
            for ref, flow in upstream.items()
        }
        for column, upstream in traced.columns.items()
    }


# --- one query ---------------------------------------------------------------------------


def test_cte_chain_with_joins_resolves_qualified_columns_to_their_tables():
    sql = f"""
    with customers as (select customer_id, country as country_code from {CUSTOMERS}),
    orders as (select order_id, customer_id, amount from {ORDERS}),
    joined as (
        select orders.order_id, customers.country_code, orders.amount as order_amount
        from orders inner join customers on orders.customer_id = customers.customer_id
    )
    select joined.order_id, joined.country_code as country, joined.order_amount from joined
    """
    assert flows(sql) == {
        "order_id": {"orders.order_id": ([PASSED_THROUGH], True)},
        "country": {"customers.country": ([PASSED_THROUGH], True)},
        # `amount` exists in both tables: the qualified reference picks orders'.
        "order_amount": {"orders.amount": ([PASSED_THROUGH], True)},
    }


def test_the_keyed_hmac_is_hashed_and_its_null_guard_does_not_weaken_it():
    sql = f"select {HMAC.format(x='customers.customer_id')} as customer_key from {CUSTOMERS}"
    assert flows(sql)["customer_key"] == {"customers.customer_id": ([HASHED], True)}


def test_an_unkeyed_hash_is_only_generalized():
    sql = f"select sha256(customers.email) as email_hash, md5(email) as h2 from {CUSTOMERS}"
    traced = flows(sql)
    assert traced["email_hash"] == {"customers.email": ([GENERALIZED], True)}
    assert traced["h2"] == {"customers.email": ([GENERALIZED], True)}


def test_the_weakest_value_occurrence_decides():
    sql = f"""
    select coalesce({HMAC.format(x="customers.email")}, customers.email) as leaky
    from {CUSTOMERS}
    """
    assert flows(sql)["leaky"] == {"customers.email": ([PASSED_THROUGH], True)}


def test_count_distinct_of_a_pseudonym_is_hashed_and_aggregated():
    sql = f"""
    with keyed as (
        select {HMAC.format(x="customers.customer_id")} as customer_key, customers.country
        from {CUSTOMERS}
    )
    select keyed.country, count(distinct keyed.customer_key) as subjects, count(*) as row_count
    from keyed group by keyed.country
    """
    traced = flows(sql)
    assert traced["subjects"] == {"customers.customer_id": ([AGGREGATED, HASHED], True)}
    assert traced["country"] == {"customers.country": ([PASSED_THROUGH], True)}
    assert traced["row_count"] == {}


def test_aggregates_windows_and_filters():
    sql = f"""
    select
        sum(orders.amount) filter (where orders.customer_id > 0) as positive_spend,
        row_number() over (partition by orders.customer_id order by orders.amount) as amount_rank,
        lag(orders.amount) over (order by orders.order_id) as previous_amount
    from {ORDERS}
    """
    traced = flows(sql)
    # the filter's predicate only selects which amounts are summed
    assert traced["positive_spend"] == {
        "orders.amount": ([AGGREGATED], True),
        "orders.customer_id": ([AGGREGATED], False),
    }
    # partition by only groups; the rank is chosen by the order column, not a copy of it
    assert traced["amount_rank"] == {"orders.amount": ([GENERALIZED], False)}
    assert traced["previous_amount"] == {
        "orders.amount": ([PASSED_THROUGH], True),
        "orders.order_id": ([GENERALIZED], False),
    }


def test_case_conditions_generalize_and_branches_return_values():
    sql = f"""
    select
        case when customers.birth_date < date '1980-01-01' then 'older' else 'younger' end
            as age_group,
        case when customers.country is null then 'unknown' else customers.country end as country,
        cast(customers.signed_up_at as date) as signed_up_date,
        cast(customers.customer_id as varchar) as customer_ref
    from {CUSTOMERS}
    """
    traced = flows(sql)
    assert traced["age_group"] == {"customers.birth_date": ([GENERALIZED], False)}
    assert traced["country"] == {"customers.country": ([PASSED_THROUGH], True)}
    assert traced["signed_up_date"] == {"customers.signed_up_at": ([GENERALIZED], True)}
    assert traced["customer_ref"] == {"customers.customer_id": ([PASSED_THROUGH], True)}


def test_a_band_looked_up_in_a_seed_is_generalized_from_the_join_key():
    sql = f"""
    with customers as (select customer_id, birth_date, country from {CUSTOMERS}),
    age_bands as (select age_from, age_to, age_band from {AGE_BANDS})
    select
        customers.customer_id,
        coalesce(age_bands.age_band, 'unknown') as age_band
    from customers
    left join age_bands
        on date_diff('year', customers.birth_date, date '2026-01-01')
            between age_bands.age_from and age_bands.age_to
        and customers.country is not null
    """
    traced = flows(sql, lookup_relations=SEEDS)
    # The key is what the conjuncts that mention the lookup compare it with: the birth date,
    # not the country (its conjunct only restricts which rows find a band).
    assert traced["age_band"] == {
        "age_bands.age_band": ([PASSED_THROUGH], True),
        "customers.birth_date": ([GENERALIZED], False),
    }
    # Without knowing the seed is a lookup, only the projected seed column remains.
    assert flows(sql)["age_band"] == {"age_bands.age_band": ([PASSED_THROUGH], True)}


def test_a_join_between_personal_relations_is_not_a_lookup():
    sql = f"""
    select orders.order_id, customers.country
    from {ORDERS} as orders inner join {CUSTOMERS} as customers
        on orders.customer_id = customers.customer_id
    """
    assert flows(sql, lookup_relations=SEEDS)["country"] == {
        "customers.country": ([PASSED_THROUGH], True)
    }


def test_select_star_is_expanded_from_the_schema():
    sql = f"with customers as (select * from {CUSTOMERS}) select * from customers"
    traced = flows(sql)
    assert list(traced) == list(SCHEMA["warehouse"]["staging"]["customers"])
    assert traced["email"] == {"customers.email": ([PASSED_THROUGH], True)}


def test_select_star_exclude_drops_the_excluded_columns():
    sql = f"select * exclude (email, birth_date) from {CUSTOMERS}"
    assert list(flows(sql)) == ["customer_id", "country", "signed_up_at", "amount"]


def test_a_union_traces_every_branch_by_position():
    sql = f"""
    select customers.customer_id as subject_id, 'customer' as kind from {CUSTOMERS}
    union all
    select orders.customer_id, 'buyer' from {ORDERS}
    union all
    select 0, 'none'
    """
    traced = flows(sql)
    assert traced["subject_id"] == {
        "customers.customer_id": ([PASSED_THROUGH], True),
        "orders.customer_id": ([PASSED_THROUGH], True),
    }
    assert traced["kind"] == {}


def test_a_union_by_name_matches_columns_by_name_not_position():
    sql = f"""
    select customers.customer_id, customers.country from {CUSTOMERS}
    union all by name
    select 'unknown' as country, orders.customer_id from {ORDERS}
    """
    assert flows(sql)["country"] == {"customers.country": ([PASSED_THROUGH], True)}


def test_aggregates_that_return_input_values_pass_them_through():
    """max(email) is an email and list(email) a list of them: only a summary protects."""
    sql = f"""
    select
        customers.country,
        max(customers.email) as largest,
        list(customers.email) as every_one,
        arg_max(customers.email, customers.customer_id) as latest,
        count(distinct customers.email) as addresses
    from {CUSTOMERS} as customers
    group by customers.country
    """
    traced = flows(sql)
    assert traced["largest"] == {"customers.email": ([PASSED_THROUGH], True)}
    assert traced["every_one"] == {"customers.email": ([PASSED_THROUGH], True)}
    assert traced["latest"]["customers.email"] == ([PASSED_THROUGH], True)
    assert traced["latest"]["customers.customer_id"] == ([PASSED_THROUGH], False)
    assert traced["addresses"] == {"customers.email": ([AGGREGATED], True)}


def test_scalar_and_in_subqueries_in_an_output_expression_are_traced():
    sql = f"""
    select
        (select sum(orders.amount) from {ORDERS} as orders
            where orders.customer_id = customers.customer_id) as largest_order,
        customers.customer_id in (select orders.customer_id from {ORDERS} as orders) as is_buyer
    from {CUSTOMERS} as customers
    """
    traced = flows(sql)
    assert traced["largest_order"] == {"orders.amount": ([AGGREGATED], True)}
    assert traced["is_buyer"] == {
        "customers.customer_id": ([GENERALIZED], False),
        "orders.customer_id": ([GENERALIZED], False),
    }


@pytest.mark.parametrize(
    ("clause", "filtered"),
    [
        (f"semi join {CONSENTED} as c on keyed.customer_key = c.customer_key", True),
        (f"anti join {CONSENTED} as c on keyed.customer_key = c.customer_key", True),
        (f"inner join {CONSENTED} as c on keyed.customer_key = c.customer_key", True),
        (f"where keyed.customer_key in (select customer_key from {CONSENTED})", True),
        # the optional side of a left join keeps every row: no filter
        (f"left join {CONSENTED} as c on keyed.customer_key = c.customer_key", False),
        ("where keyed.customer_key is not null", False),
    ],
)
def test_consent_filtering_is_a_join_or_filter_on_a_consent_model(clause, filtered):
    sql = f"""
    with keyed as (select {HMAC.format(x="customer_id")} as customer_key from {CUSTOMERS})
    select keyed.customer_key from keyed {clause}
    """
    traced = sql_lineage(sql, SCHEMA, consent_relations=CONSENT)
    assert traced.consent_filtered is filtered
    assert not sql_lineage(sql, SCHEMA).consent_filtered  # without consent models, never


def test_a_consent_cte_joined_later_still_counts_but_a_plain_read_does_not():
    joined = f"""
    with subjects as (select customer_key from {CONSENTED} where purpose = 'analytics'),
    keyed as (select {HMAC.format(x="customer_id")} as customer_key from {CUSTOMERS})
    select subjects.customer_key from subjects inner join keyed
        on subjects.customer_key = keyed.customer_key
    """
    plain = f"select customer_key from {CONSENTED} where purpose = 'analytics'"
    assert sql_lineage(joined, SCHEMA, consent_relations=CONSENT).consent_filtered
    assert not sql_lineage(plain, SCHEMA, consent_relations=CONSENT).consent_filtered


def test_unparsable_sql_raises_a_lineage_error_without_literals():
    with pytest.raises(LineageError) as raised:
        sql_lineage("select 'secret-value' as x from (where", SCHEMA)
    assert "secret-value" not in str(raised.value)


# --- a fake project --------------------------------------------------------------------------

PACKAGE = "demo"


def source(table: str, columns: dict[str, str | None]) -> dict:
    """A source whose columns are classified as given (None: no meta.privacy at all)."""
    return {
        "unique_id": f"source.{PACKAGE}.shop.{table}",
        "resource_type": "source",
        "source_name": "shop",
        "name": table,
        "relation_name": (
            f"read_parquet('/data/raw/{table}.parquet', filename = true, file_row_number = true)"
        ),
        "columns": {
            name: (
                {"name": name, "meta": {"privacy": {"classification": cls, "data_category": "x"}}}
                if cls
                else {"name": name, "meta": {}}
            )
            for name, cls in columns.items()
        },
    }


def node(
    kind: str,
    name: str,
    schema: str,
    sql: str | None = None,
    layer: str | None = None,
    published: bool = False,
) -> dict:
    entry = {
        "unique_id": f"{kind}.{PACKAGE}.{name}",
        "resource_type": kind,
        "name": name,
        "alias": name,
        "database": "warehouse",
        "schema": schema,
        "package_name": PACKAGE,
        "original_file_path": f"models/{name}.sql",
        "config": {"enabled": True, "meta": {"privacy": {"layer": layer, "published": published}}},
        "columns": {},
    }
    if sql is not None:
        entry["compiled_code"] = sql
    return entry


def ref(name: str, schema: str) -> str:
    return f'"warehouse"."{schema}"."{name}"'


CUSTOMERS_SOURCE = source(
    "customers",
    {
        "customer_id": "direct_identifier",
        "email": "direct_identifier",
        "birth_date": "direct_identifier",
        "country": "quasi_identifier",
        "crm_note": None,
    },
)
ORDERS_SOURCE = source(
    "orders",
    {"order_id": "direct_identifier", "customer_id": "direct_identifier", "amount": "behavioral"},
)

MODELS = {
    "base_shop__customers": (
        "staging",
        f"""
        with source_rows as (select * from {CUSTOMERS_SOURCE["relation_name"]})
        select
            cast(source_rows.customer_id as bigint) as customer_id,
            nullif(trim(source_rows.email), '') as email,
            try_cast(source_rows.birth_date as date) as birth_date,
            source_rows.country,
            source_rows.crm_note,
            source_rows.filename as _source_file
        from source_rows
        """,
    ),
    "base_shop__orders": (
        "staging",
        f"select * from {ORDERS_SOURCE['relation_name']}",
    ),
    "int_customers_pseudonymized": (
        "pseudonymized",
        f"""
        with customers as (select * from {ref("base_shop__customers", "staging")}),
        age_bands as (select * from {ref("age_bands", "reference")})
        select
            {HMAC.format(x="customers.customer_id")} as customer_key,
            age_bands.age_band,
            customers.country,
            length(customers.crm_note) as note_length
        from customers
        left join age_bands
            on date_diff('year', customers.birth_date, date '2026-01-01')
                between age_bands.age_from and age_bands.age_to
        """,
    ),
    "int_consented_subjects": (
        "consent",
        f"select customer_key from {ref('int_customers_pseudonymized', 'pseudonymized')}",
    ),
    "fct_customer_orders": (
        "behavior",
        f"""
        with orders as (select * from {ref("base_shop__orders", "staging")}),
        keyed as (
            select {HMAC.format(x="orders.customer_id")} as customer_key, orders.order_id,
                orders.amount
            from orders
        )
        select
            keyed.customer_key,
            count(distinct keyed.order_id) as order_count,
            sum(keyed.amount) as spend
        from keyed
        semi join {ref("int_consented_subjects", "consent")} as consented
            on keyed.customer_key = consented.customer_key
        group by keyed.customer_key
        """,
    ),
    "rpt_age_bands": (
        "segments",
        f"""
        with customers as (
            select * from {ref("int_customers_pseudonymized", "pseudonymized")}
        ),
        buyers as (select * from {ref("fct_customer_orders", "behavior")})
        select
            customers.age_band,
            count(distinct customers.customer_key) as members,
            count(distinct buyers.customer_key) as buyers,
            sum(buyers.spend) as spend
        from customers left join buyers on customers.customer_key = buyers.customer_key
        group by customers.age_band
        """,
    ),
    "fct_contact_leak": (
        "behavior",
        f"""
        select
            {HMAC.format(x="customers.customer_id")} as customer_key,
            lower(customers.email) as contact_hint,
            case when customers.email like '%@example.com' then 'example' end as email_domain
        from {ref("base_shop__customers", "staging")} as customers
        """,
    ),
    "fct_broken": ("behavior", "select from where ( having"),
}
LAYER_SCHEMAS = {
    "staging": "staging",
    "pseudonymized": "pseudonymized",
    "consent": "consent",
    "behavior": "behavior",
    "segments": "segments",
}
CATALOG_COLUMNS = {
    "base_shop__customers": {
        "customer_id": "BIGINT",
        "email": "VARCHAR",
        "birth_date": "DATE",
        "country": "VARCHAR",
        "crm_note": "VARCHAR",
        "_source_file": "VARCHAR",
    },
    "base_shop__orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "amount": "VARCHAR",
        "filename": "VARCHAR",
        "file_row_number": "BIGINT",
    },
    "int_customers_pseudonymized": {
        "customer_key": "VARCHAR",
        "age_band": "VARCHAR",
        "country": "VARCHAR",
        "note_length": "BIGINT",
    },
    "fct_customer_orders": {"customer_key": "VARCHAR", "order_count": "BIGINT", "spend": "DOUBLE"},
    "age_bands": {"age_from": "INTEGER", "age_to": "INTEGER", "age_band": "VARCHAR"},
}


@pytest.fixture()
def artifacts() -> tuple[dict, dict]:
    nodes = {}
    for name, (layer, sql) in MODELS.items():
        entry = node(
            "model", name, LAYER_SCHEMAS[layer], sql, layer, published=name == "rpt_age_bands"
        )
        nodes[entry["unique_id"]] = entry
    seed = node("seed", "age_bands", "reference")
    nodes[seed["unique_id"]] = seed
    manifest = {
        "nodes": nodes,
        "sources": {s["unique_id"]: s for s in (CUSTOMERS_SOURCE, ORDERS_SOURCE)},
    }
    catalog = {
        "nodes": {
            unique_id: {"columns": {c: {"type": t} for c, t in CATALOG_COLUMNS[n["name"]].items()}}
            for unique_id, n in nodes.items()
            if n["name"] in CATALOG_COLUMNS
        },
        "sources": {},
    }
    return manifest, catalog


@pytest.fixture()
def project(artifacts, tmp_path):
    manifest, catalog = artifacts
    return trace_project(manifest, catalog, target_dir=tmp_path)


def by_source(project, model: str, column: str) -> dict[str, list[tuple[list[str], bool]]]:
    traced: dict[str, list[tuple[list[str], bool]]] = {}
    for path in trace_column(project, model, column):
        traced.setdefault(path.source.label, []).append((sorted(path.steps), path.carries_value))
    return traced


def test_a_pseudonym_traces_through_staging_to_the_source_column_hashed(project):
    (path,) = trace_column(project, "int_customers_pseudonymized", "customer_key")
    assert path.source.label == "shop.customers.customer_id"
    assert path.source.classification == "direct_identifier"
    assert path.steps == {HASHED}
    assert path.path == (
        "int_customers_pseudonymized.customer_key",
        "base_shop__customers.customer_id",
        "shop.customers.customer_id",
    )


def test_a_looked_up_band_traces_to_the_seed_and_to_the_birth_date(project):
    assert by_source(project, "int_customers_pseudonymized", "age_band") == {
        "age_bands.age_band": [([PASSED_THROUGH], True)],
        "shop.customers.birth_date": [([GENERALIZED], False)],
    }
    (seed,) = [
        p for p in trace_column(project, "rpt_age_bands", "age_band") if p.source.kind == "seed"
    ]
    assert seed.source.classification == "non_personal"


def test_consent_filtering_and_aggregation_accumulate_along_the_path(project):
    assert project.models[f"model.{PACKAGE}.fct_customer_orders"].consent_filtered
    assert not project.models[f"model.{PACKAGE}.rpt_age_bands"].consent_filtered
    # rpt_age_bands.buyers <- fct_customer_orders.customer_key (consent-filtered) <- orders
    assert by_source(project, "rpt_age_bands", "buyers") == {
        "shop.orders.customer_id": [([AGGREGATED, CONSENT_FILTERED, HASHED], True)]
    }
    assert by_source(project, "rpt_age_bands", "spend") == {
        "shop.orders.amount": [([AGGREGATED, CONSENT_FILTERED], True)]
    }


def test_a_diamond_keeps_one_path_per_source_and_steps(project):
    # members reaches customers.customer_id one way; buyers via the consent-filtered fact:
    # different sources, one path each; and the seed and birth date for age_band.
    members = trace_column(project, "rpt_age_bands", "members")
    assert [(p.source.label, sorted(p.steps)) for p in members] == [
        ("shop.customers.customer_id", [AGGREGATED, HASHED])
    ]
    assert len(trace_column(project, "rpt_age_bands", "age_band")) == 2


def test_read_parquet_technical_columns_are_non_personal_source_columns(project):
    (path,) = trace_column(project, "base_shop__customers", "_source_file")
    assert (path.source.label, path.source.kind, path.source.classification) == (
        "shop.customers.filename",
        "source",
        "non_personal",
    )


def test_findings_name_leaks_unclassified_sources_and_unparsed_models(project):
    findings = lineage_findings(project)
    leaks = [f for f in findings if "carries direct identifier" in f]
    assert sorted(f.split(":")[0] for f in leaks) == [
        "fct_contact_leak.contact_hint",
    ]
    assert "shop.customers.email" in leaks[0]
    assert "passed_through" in leaks[0]
    unclassified = [f for f in findings if "no meta.privacy" in f]
    assert [f.split(":")[0] for f in unclassified] == ["int_customers_pseudonymized.note_length"]
    assert "shop.customers.crm_note" in unclassified[0]
    unparsed = [f for f in findings if "could not be parsed" in f]
    assert [f.split(":")[0] for f in unparsed] == ["fct_broken"]
    assert len(findings) == 3, findings


def test_no_finding_for_hashes_aggregates_and_selectors(project):
    findings = "\n".join(lineage_findings(project))
    # customer_key (hashed), email_domain (a case condition on the email), members
    # (count distinct) and age_band (birth date only as a lookup key) are not leaks
    for column in ("fct_contact_leak.customer_key", "fct_contact_leak.email_domain"):
        assert column not in findings
    assert "rpt_age_bands" not in findings


def test_a_leak_in_a_published_model_outside_the_marts_is_a_finding(artifacts, tmp_path):
    manifest, catalog = artifacts
    leak = node(
        "model",
        "int_published_emails",
        "pseudonymized",
        f"select email from {ref('base_shop__customers', 'staging')}",
        "pseudonymized",
        published=True,
    )
    hidden = node(
        "model",
        "int_unpublished_emails",
        "pseudonymized",
        f"select email from {ref('base_shop__customers', 'staging')}",
        "pseudonymized",
    )
    manifest["nodes"].update({n["unique_id"]: n for n in (leak, hidden)})
    findings = lineage_findings(trace_project(manifest, catalog, target_dir=tmp_path))
    assert any(f.startswith("int_published_emails.email: carries direct") for f in findings)
    assert not any(f.startswith("int_unpublished_emails") for f in findings)


def test_a_model_without_compiled_sql_reads_the_compiled_file_or_is_unparsed(artifacts, tmp_path):
    manifest, catalog = artifacts
    uid = f"model.{PACKAGE}.fct_customer_orders"
    sql = manifest["nodes"][uid].pop("compiled_code")
    unparsed = trace_project(manifest, catalog, target_dir=tmp_path)
    assert unparsed.models[uid].unparsed is not None
    assert any(
        f.startswith("fct_customer_orders: lineage could not be parsed") for f in unparsed.findings
    )

    compiled = tmp_path / "compiled" / PACKAGE / "models" / "fct_customer_orders.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text(sql)
    parsed = trace_project(manifest, catalog, target_dir=tmp_path)
    assert parsed.models[uid].unparsed is None
    assert by_source(parsed, "fct_customer_orders", "order_count") == {
        "shop.orders.order_id": [([AGGREGATED, CONSENT_FILTERED], True)]
    }


def test_a_relation_outside_the_project_is_a_finding(artifacts, tmp_path):
    manifest, catalog = artifacts
    stray = node(
        "model",
        "fct_stray",
        "behavior",
        'select x.note from "warehouse"."scratch"."notes" as x',
        "behavior",
    )
    manifest["nodes"][stray["unique_id"]] = stray
    findings = lineage_findings(trace_project(manifest, catalog, target_dir=tmp_path))
    assert any(
        f.startswith("fct_stray.note: traces to warehouse.scratch.notes.note, which is not")
        for f in findings
    ), findings


def test_the_summary_is_json_for_models_past_staging(project):
    summary = lineage_summary(project)
    json.dumps(summary)  # serialisable as it is
    assert "base_shop__customers" not in summary
    assert summary["fct_broken"] == {}
    (entry,) = summary["fct_contact_leak"]["contact_hint"]
    assert entry == {
        "source": "shop.customers.email",
        "source_kind": "source",
        "source_classification": "direct_identifier",
        "data_category": "x",
        "steps": [PASSED_THROUGH],
        "carries_value": True,
        "path": [
            "fct_contact_leak.contact_hint",
            "base_shop__customers.email",
            "shop.customers.email",
        ],
    }
    assert project.columns == summary
    models = model_summary(project)
    assert models["fct_customer_orders"]["consent_filtered"] is True
    assert models["fct_broken"]["parsed"] is False


def test_trace_column_accepts_a_unique_id_and_rejects_unknown_models(project):
    by_name = trace_column(project, "fct_customer_orders", "spend")
    assert trace_column(project, f"model.{PACKAGE}.fct_customer_orders", "spend") == by_name
    with pytest.raises(KeyError):
        trace_column(project, "no_such_model", "x")
