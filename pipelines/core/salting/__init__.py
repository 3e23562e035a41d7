"""Hot keys: detection, salt placement, salted shuffles, AQE sizing and the salting decision.

The only package that adds salt to a shuffle. ``decide_salting`` is the one place that decides
what a reduce or join stage does with its hot keys; the run and the notebook explorer call it.
"""

from pipelines.core.salting.aqe import AQE, coalesced_partition_bytes, skew_conf
from pipelines.core.salting.decision import SaltDecision, decide_salting
from pipelines.core.salting.hot_keys import (
    SAMPLE_SEED,
    HotKey,
    HotKeys,
    declared_hot_keys,
    detect_hot_keys,
    task_slots,
)
from pipelines.core.salting.placement import SALT, place_salts, salt_column, spread_for_write
from pipelines.core.salting.shuffles import (
    SALTABLE_JOINS,
    hot_rows_fit_broadcast,
    needs_salting,
    plain_reduce,
    salted_join,
    salted_reduce,
)

__all__ = [
    "AQE", "HotKey", "HotKeys", "SALT", "SAMPLE_SEED", "SALTABLE_JOINS", "SaltDecision",
    "coalesced_partition_bytes", "decide_salting", "declared_hot_keys", "detect_hot_keys",
    "hot_rows_fit_broadcast", "needs_salting", "place_salts", "plain_reduce", "salt_column",
    "salted_join", "salted_reduce", "skew_conf", "spread_for_write", "task_slots",
]
