#!/usr/bin/env bash
# Run one pipeline for "yesterday" from cron, done right:
#   - the venv on PATH (spark-submit and pipelines need it; cron's PATH is minimal)
#   - the logical date computed in the pipeline's time zone, not the host's
#   - one log file per pipeline and date; one JSON summary per run (<date>.<run id>.json),
#     <date>.json pointing at the latest, so a catch-up entry's "skipped" keeps the night's
#   - the framework's lock refuses overlapping runs (exit 4); a finished date is a no-op
#   - a failed run prints one line on stderr, which cron mails; the log has the rest
#   - PIPELINES_TIMEOUT (seconds) ends a run that outlives its window (exit 6)
# Usage: deploy/cron_run.sh PIPELINE [extra pipelines-run flags...]
set -uo pipefail
PIPELINE=${1:?usage: cron_run.sh PIPELINE [flags]}
shift
REPO=${PIPELINES_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
export PATH="$REPO/.venv/bin:$PATH"
export PIPELINES_CONF_DIR=${PIPELINES_CONF_DIR:-$REPO/conf}
export PIPELINES_ENV=${PIPELINES_ENV:-prod}
export TZ=${PIPELINES_TZ:-UTC}
DATE=${PIPELINES_DATE:-$(date -d yesterday +%F)}
LOGS=${PIPELINES_LOGS:-$REPO/logs}/$PIPELINE
mkdir -p "$LOGS"
LOG="$LOGS/$DATE.log"
SUMMARY=$(mktemp "$LOGS/.$DATE.XXXXXX.json")
TIMEOUT=()
[ -n "${PIPELINES_TIMEOUT:-}" ] && TIMEOUT=(--timeout "$PIPELINES_TIMEOUT")
cd "$REPO" || exit 1
echo "$(date -Is) start $PIPELINE $DATE (env $PIPELINES_ENV, TZ=$TZ, pid $$)" >> "$LOG"
pipelines run "$PIPELINE" --date "$DATE" --json "${TIMEOUT[@]}" "$@" > "$SUMMARY" 2>> "$LOG"
code=$?
case $code in
  0) what="ok" ;;
  2) what="usage, config or definition error" ;;
  3) what="blocking data-quality failure: nothing published" ;;
  4) what="another run holds the lock: not started" ;;
  5) what="input missing or unreadable" ;;
  6) what="timed out: Spark jobs cancelled" ;;
  *) what="failure" ;;
esac
run_id=$(python -c 'import json,sys; print(json.load(open(sys.argv[1])).get("run_id") or "")' \
  "$SUMMARY" 2>/dev/null)
KEPT="$LOGS/$DATE.${run_id:-exit$code-$$}.json"
mv "$SUMMARY" "$KEPT"
status=$(python -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status",""))' \
  "$KEPT" 2>/dev/null)
# <date>.json: the latest run that did something, not a later "skipped"
if [ "$status" != "skipped" ] || [ ! -e "$LOGS/$DATE.json" ]; then
  ln -sfn "$(basename "$KEPT")" "$LOGS/$DATE.json"
fi
echo "$(date -Is) end $PIPELINE $DATE exit $code ($what), summary $KEPT" >> "$LOG"
if [ "$code" -ne 0 ]; then
  echo "pipelines: $PIPELINE $DATE failed, exit $code ($what); log $LOG" >&2
fi
exit $code
