"""The TPC-H tables: declared schemas and the sources that read them."""

from __future__ import annotations

from pyspark.sql.types import (
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from pipelines import Sink, Source

__all__ = ["SCHEMAS", "REVENUE", "answer", "source"]

_TYPES: dict[str, DataType] = {"bigint": LongType(), "int": IntegerType(),
                               "string": StringType(), "date": DateType(),
                               "money": DecimalType(15, 2)}


def _schema(columns: str) -> StructType:
    fields = [column.split() for column in columns.split(",")]
    return StructType([StructField(name, _TYPES[kind]) for name, kind in fields])


SCHEMAS = {
    "lineitem": _schema(
        "l_orderkey bigint, l_partkey bigint, l_suppkey bigint, l_linenumber int, "
        "l_quantity money, l_extendedprice money, l_discount money, l_tax money, "
        "l_returnflag string, l_linestatus string, l_shipdate date, l_commitdate date, "
        "l_receiptdate date, l_shipinstruct string, l_shipmode string, l_comment string"),
    "orders": _schema(
        "o_orderkey bigint, o_custkey bigint, o_orderstatus string, o_totalprice money, "
        "o_orderdate date, o_orderpriority string, o_clerk string, o_shippriority int, "
        "o_comment string"),
    "customer": _schema(
        "c_custkey bigint, c_name string, c_address string, c_nationkey bigint, "
        "c_phone string, c_acctbal money, c_mktsegment string, c_comment string"),
    "supplier": _schema(
        "s_suppkey bigint, s_name string, s_address string, s_nationkey bigint, "
        "s_phone string, s_acctbal money, s_comment string"),
    "nation": _schema("n_nationkey bigint, n_name string, n_regionkey bigint, "
                      "n_comment string"),
    "region": _schema("r_regionkey bigint, r_name string, r_comment string"),
    "part": _schema(
        "p_partkey bigint, p_name string, p_mfgr string, p_brand string, p_type string, "
        "p_size int, p_container string, p_retailprice money, p_comment string"),
}


def source(table: str, *, where: str = "") -> Source:
    """The Parquet source of one TPC-H table, optionally filtered (pushed into the scan)."""
    return Source(table, format="parquet", path=f"landing/tpch/{table}.parquet",
                  schema=SCHEMAS[table], where=where)


def answer(query: str, stage: str) -> Sink:
    """The Delta table ``tpch_<query>`` holding the answer, replaced whole by every run."""
    return Sink("answer", input=stage, table=f"tpch_{query}", mode="overwrite")


REVENUE = "l_extendedprice * (1 - l_discount)"
