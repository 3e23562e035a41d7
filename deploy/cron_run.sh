#!/usr/bin/env bash
# Run one pipeline for "yesterday" from cron, done right:
#   - the venv on PATH (spark-submit and pipelines need it; cron's PATH is minimal)
#   - the logical date computed in the pipeline's time zone, not the host's
#   - one log file per pipeline and date, one JSON summary next to it
#   - the framework's lock refuses overlapping runs (exit 4); a finished date is a no-op
# Usage: deploy/cron_run.sh PIPELINE [extra pipelines-run flags...]
set -uo pipefail
PIPELINE=${1:?usage: cron_run.sh PIPELINE [flags]}
shift
REPO=${PIPELINES_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
export PATH="$REPO/.venv/bin:$PATH"
export PIPELINES_CONF_DIR="$REPO/conf"
export TZ=${PIPELINES_TZ:-UTC}
DATE=${PIPELINES_DATE:-$(date -d yesterday +%F)}
LOGS=${PIPELINES_LOGS:-$REPO/logs}/$PIPELINE
mkdir -p "$LOGS"
LOG="$LOGS/$DATE.log"
cd "$REPO" || exit 1
{
  echo "$(date -Is) start $PIPELINE $DATE (TZ=$TZ, pid $$)"
  pipelines run "$PIPELINE" --date "$DATE" --env "${PIPELINES_ENV:-prod}" --json "$@" \
    > "$LOGS/$DATE.json"
  code=$?
  case $code in
    0) what="ok" ;;
    2) what="usage, config or definition error" ;;
    3) what="blocking data-quality failure: nothing published" ;;
    4) what="another run holds the lock: not started" ;;
    5) what="input missing or unreadable" ;;
    *) what="failure" ;;
  esac
  echo "$(date -Is) end $PIPELINE $DATE exit $code ($what)"
  exit $code
} >> "$LOG" 2>&1
