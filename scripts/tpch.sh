#!/usr/bin/env bash
# `make tpch`: TPC-H data at scale factor 0.01 (tpchgen-cli), then every TPC-H example
# pipeline (examples/tpch/, no Map stage), each publishing its answer as tpch_q<N>.
set -uo pipefail
cd "$(dirname "$0")/.."
WH=${WAREHOUSE:-warehouse}
P=".venv/bin/pipelines"
C=(--conf "warehouse=$WH" --conf "pipeline_packages=[examples.tpch]")

.venv/bin/tpchgen-cli parquet -s 0.01 --output-dir="$WH/landing/tpch" || exit $?
$P plan q5 --date 2026-11-26 "${C[@]}" || exit $?
for q in q1 q3 q4 q5 q6 q10 q12 q14 q18 q19; do
  $P run "$q" --date 2026-11-26 --force "${C[@]}" || exit $?
done
$P table tpch_q5 --limit 5 "${C[@]}" || exit $?
