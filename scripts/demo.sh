#!/usr/bin/env bash
# The demo behind `make demo`: three nightly runs of daily_revenue on generated data, one of
# them with bad rows that are quarantined, then a day whose duplicates block publishing; then
# the star schema product_sales over the same days, its product dimension keeping history.
set -uo pipefail
cd "$(dirname "$0")/.."
WH=${WAREHOUSE:-warehouse}
P=".venv/bin/pipelines"
C=(--conf "warehouse=$WH")

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "generate raw orders for three days (50% of orders from 3 hot customers)"
$P demo-data --date 2026-11-24 --rows 200000 "${C[@]}" || exit $?
$P demo-data --date 2026-11-25 --rows 200000 "${C[@]}" || exit $?
$P demo-data --date 2026-11-26 --rows 200000 --bad-share 0.003 "${C[@]}" || exit $?

step "plan: the DAG, the schemas and what the run will write"
$P plan daily_revenue --date 2026-11-26 "${C[@]}" || exit $?

step "backfill the three days (a rerun of a finished day is a no-op)"
$P backfill daily_revenue --start 2026-11-24 --end 2026-11-26 "${C[@]}" || exit $?

step "a day with duplicate order ids: a blocking check fails, nothing is published (exit 3)"
$P demo-data --date 2026-11-27 --rows 200000 --duplicates 25 "${C[@]}" || exit $?
$P run daily_revenue --date 2026-11-27 "${C[@]}"
code=$?
if [ "$code" -ne 3 ]; then echo "expected exit code 3, got $code"; exit 1; fi
echo "exit code $code, as expected"

step "the star schema: product_sales over the same three days (declared stages only)"
$P backfill product_sales --start 2026-11-24 --end 2026-11-26 "${C[@]}" || exit $?

step "a repriced product keeps its history (dim_product, type 2)"
$P table dim_product --where "product_id = 'P0000'" "${C[@]}" || exit $?
$P table top_products --limit 6 "${C[@]}" || exit $?

step "the run ledger"
$P history daily_revenue "${C[@]}" || exit $?

step "what was published"
$P table fact_daily_revenue --limit 5 --where "customer_id = 'C000001'" "${C[@]}" || exit $?
$P table clean_orders_quarantine --limit 3 "${C[@]}" || exit $?
echo
echo "Warehouse: $WH (tables/, _pipelines/ledger, _pipelines/reports/*/report.html)"
