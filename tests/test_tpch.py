"""TPC-H queries written as pipelines without a Map stage give DuckDB's answers on the same
files (tpchgen-cli's data at scale factor 0.01)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.core.interfaces.cli import main
from tests.helpers import DATE, table

TABLES = ("lineitem", "orders", "customer", "supplier", "nation", "region", "part")
REVENUE = "l_extendedprice * (1 - l_discount)"

# DuckDB's SQL for each query, columns named as the pipeline names them; ORDER BY where the
# pipeline keeps only the first rows (their order decides which rows they are)
REFERENCE = {
    "q1": """SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
        sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount))
        AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
        avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
        avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem WHERE l_shipdate <= DATE '1998-09-02' GROUP BY ALL""",
    "q3": f"""SELECT l_orderkey, o_orderdate, o_shippriority, sum({REVENUE}) AS revenue
        FROM customer, orders, lineitem WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey
        AND l_orderkey = o_orderkey AND o_orderdate < DATE '1995-03-15'
        AND l_shipdate > DATE '1995-03-15' GROUP BY ALL ORDER BY revenue DESC, o_orderdate
        LIMIT 10""",
    "q4": """SELECT o_orderpriority, count(*) AS order_count FROM orders
        WHERE o_orderdate >= DATE '1993-07-01' AND o_orderdate < DATE '1993-10-01'
        AND EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey
                    AND l_commitdate < l_receiptdate) GROUP BY ALL""",
    "q5": f"""SELECT n_name, sum({REVENUE}) AS revenue
        FROM customer, orders, lineitem, supplier, nation, region
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
        AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey
        AND n_regionkey = r_regionkey AND r_name = 'ASIA'
        AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
        GROUP BY ALL""",
    "q6": """SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem
        WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
        AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    "q10": f"""SELECT c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment,
        sum({REVENUE}) AS revenue FROM customer, orders, lineitem, nation
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey
        AND o_orderdate >= DATE '1993-10-01' AND o_orderdate < DATE '1994-01-01'
        AND l_returnflag = 'R' AND c_nationkey = n_nationkey GROUP BY ALL
        ORDER BY revenue DESC LIMIT 20""",
    "q12": """SELECT l_shipmode,
        sum(CASE WHEN o_orderpriority IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
          AS high_line_count,
        sum(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
          AS low_line_count
        FROM orders, lineitem WHERE o_orderkey = l_orderkey AND l_shipmode IN ('MAIL', 'SHIP')
        AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate
        AND l_receiptdate >= DATE '1994-01-01' AND l_receiptdate < DATE '1995-01-01'
        GROUP BY ALL""",
    "q14": f"""SELECT 100.00 * sum(CASE WHEN p_type LIKE 'PROMO%' THEN {REVENUE} ELSE 0 END)
        / sum({REVENUE}) AS promo_revenue FROM lineitem, part
        WHERE l_partkey = p_partkey AND l_shipdate >= DATE '1995-09-01'
        AND l_shipdate < DATE '1995-10-01'""",
    "q18": """SELECT c_name, c_custkey AS o_custkey, o_orderkey, o_orderdate, o_totalprice,
        sum(l_quantity) AS sum_qty FROM customer, orders, lineitem
        WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey
                             HAVING sum(l_quantity) > 300)
        AND c_custkey = o_custkey AND o_orderkey = l_orderkey GROUP BY ALL
        ORDER BY o_totalprice DESC, o_orderdate LIMIT 100""",
    "q19": f"""SELECT sum({REVENUE}) AS revenue FROM lineitem, part
        WHERE p_partkey = l_partkey AND l_shipmode IN ('AIR', 'AIR REG')
        AND l_shipinstruct = 'DELIVER IN PERSON' AND (
          (p_brand = 'Brand#12' AND p_container IN ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
           AND l_quantity BETWEEN 1 AND 11 AND p_size BETWEEN 1 AND 5)
          OR (p_brand = 'Brand#23' AND p_container IN ('MED BAG', 'MED BOX', 'MED PKG',
              'MED PACK') AND l_quantity BETWEEN 10 AND 20 AND p_size BETWEEN 1 AND 10)
          OR (p_brand = 'Brand#34' AND p_container IN ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
           AND l_quantity BETWEEN 20 AND 30 AND p_size BETWEEN 1 AND 15))""",
}


@pytest.fixture(scope="module")
def tpch(tmp_path_factory) -> str:
    """A warehouse whose landing folder holds the TPC-H tables as Parquet files."""
    warehouse = tmp_path_factory.mktemp("tpch") / "wh"
    landing = warehouse / "landing" / "tpch"
    generator = Path(sys.executable).parent / "tpchgen-cli"
    subprocess.run([str(generator), "parquet", "-s", "0.01", f"--output-dir={landing}"],
                   check=True, capture_output=True, timeout=300)
    return str(warehouse)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9,
                                                                  abs_tol=1e-6)
    return a == b


def _duckdb(warehouse: str, query: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect()
    for name in TABLES:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM "
                    f"read_parquet('{warehouse}/landing/tpch/{name}.parquet')")
    result = con.execute(query)
    columns = [d[0] for d in result.description]
    return columns, [tuple(_plain(v) for v in row) for row in result.fetchall()]


@pytest.mark.parametrize("query", sorted(REFERENCE, key=lambda q: int(q[1:])))
def test_the_pipeline_gives_duckdbs_answer(spark, tpch, query, capsys):
    code = main(["run", query, "--date", DATE, "--env", "test", "--conf", f"warehouse={tpch}",
                 "--conf", "pipeline_packages=[examples.tpch]", "--json"])
    assert code == 0, capsys.readouterr().err
    columns, expected = _duckdb(tpch, REFERENCE[query])
    answer = table(spark, tpch, f"tpch_{query}")
    assert answer.columns == columns
    rows = [tuple(_plain(v) for v in row) for row in answer.collect()]
    if "ORDER BY" not in REFERENCE[query]:  # a table has no order: compare as sets of rows
        rows, expected = sorted(rows, key=repr), sorted(expected, key=repr)
    else:  # the first rows in the query's order; Delta keeps no order
        order = [c for c in columns if c in ("revenue", "o_totalprice")][0]
        rows = sorted(rows, key=lambda r: -r[columns.index(order)])
    assert len(rows) == len(expected) and expected, f"{query}: {len(rows)} rows"
    for got, want in zip(rows, expected, strict=True):
        assert all(_same(a, b) for a, b in zip(got, want, strict=True)), (got, want)
