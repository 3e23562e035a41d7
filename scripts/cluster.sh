#!/usr/bin/env bash
# A Spark standalone cluster on this machine from the pip-installed Spark: one master and one
# worker bound to 127.0.0.1. The pip package has no sbin/start-master.sh, so the Master and
# Worker classes are started directly with bin/spark-class.
#   scripts/cluster.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export SPARK_HOME=${SPARK_HOME:-$($VENV/bin/python -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')}
export SPARK_LOCAL_IP=127.0.0.1
export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$(pwd)/$VENV/bin/python}
RUN=${CLUSTER_DIR:-$(pwd)/build/cluster}
MASTER_PORT=${MASTER_PORT:-7077}
mkdir -p "$RUN"

start_one() {  # name class args...
  local name=$1; shift
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$RUN/$name.pid"))"; return
  fi
  nohup "$SPARK_HOME/bin/spark-class" "$@" > "$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}

wait_for() {  # log-file pattern
  for _ in $(seq 1 90); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 1; done
  echo "timed out waiting for '$2' in $1"; tail -20 "$1"; return 1
}

case "${1:-}" in
  start)
    start_one master org.apache.spark.deploy.master.Master --host 127.0.0.1 \
      --port "$MASTER_PORT" --webui-port 8080
    wait_for "$RUN/master.log" "I have been elected leader"
    start_one worker org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 2 \
      --memory 4g --work-dir "$RUN/work" "spark://127.0.0.1:$MASTER_PORT"
    wait_for "$RUN/worker.log" "Successfully registered with master"
    echo "cluster up: spark://127.0.0.1:$MASTER_PORT (logs in $RUN)"
    ;;
  stop)
    for name in worker master; do
      if [ -f "$RUN/$name.pid" ]; then
        pid=$(cat "$RUN/$name.pid")
        pkill -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        rm -f "$RUN/$name.pid"
      fi
    done
    echo "cluster stopped"
    ;;
  status)
    for name in master worker; do
      if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
        echo "$name running (pid $(cat "$RUN/$name.pid"))"; else echo "$name stopped"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
