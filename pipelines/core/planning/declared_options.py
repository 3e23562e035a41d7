"""Declared options that would not be honored, refused at plan time naming the option.

Sources: which fields and reader options each format honors. Stages and sinks: options that
only mean something together with others (hot keys of a stage that never salts, a partition
predicate of a sink that appends). Expectations: a drop share on a check that drops nothing.

The reader option names are Spark's own (``CSVOptions``, ``JSONOptions``, ``ParquetOptions``
and ``FileIndexOptions``; a test compares these tables with the running JVM's lists). Spark
matches option names case-insensitively and ignores names it does not know, so a typo would
read the files as if the option were absent: here an unknown name is refused instead, with the
closest known one. Options that only steer schema inference or writing are refused too: a
source always reads with its declared schema, and never writes.
"""

from __future__ import annotations

import difflib
from typing import Any

from pipelines.core.declare.expectations import Expectation
from pipelines.core.declare.spec import Join, Reduce, Sink, Source
from pipelines.core.delta.modes import MODES, mode_of
from pipelines.core.errors import DefinitionError
from pipelines.core.salting import SALTABLE_JOINS, needs_salting

__all__ = ["FILE_FORMATS", "READ_OPTIONS", "NOT_FOR_READING", "check_source_options",
           "check_stage_options", "check_sink_options", "check_expectation_options"]

FILE_FORMATS = ("json", "csv", "parquet")

# options of Spark's file index: which files a read lists, for every file format
_FILE_INDEX = (
    "basePath", "ignoreCorruptFiles", "ignoreInvalidPartitionPaths", "ignoreMissingFiles",
    "modifiedAfter", "modifiedBefore", "pathGlobFilter", "recursiveFileLookup", "timeZone",
)

READ_OPTIONS: dict[str, tuple[str, ...]] = {
    "csv": (*_FILE_INDEX,
            "charToEscapeQuoteEscaping", "charset", "columnNameOfCorruptRecord", "columnPruning",
            "comment", "dateFormat", "delimiter", "emptyValue", "enableDateTimeParsingFallback",
            "encoding", "enforceSchema", "escape", "header", "ignoreLeadingWhiteSpace",
            "ignoreTrailingWhiteSpace", "inputBufferSize", "lineSep", "locale",
            "maxCharsPerColumn", "maxColumns", "mode", "multiLine", "nanValue", "negativeInf",
            "nullValue", "positiveInf", "quote", "sep", "timestampFormat",
            "timestampNTZFormat", "unescapedQuoteHandling"),
    "json": (*_FILE_INDEX,
             "allowBackslashEscapingAnyCharacter", "allowComments", "allowNonNumericNumbers",
             "allowNumericLeadingZeros", "allowSingleQuotes", "allowUnquotedControlChars",
             "allowUnquotedFieldNames", "charset", "columnNameOfCorruptRecord", "dateFormat",
             "enableDateTimeParsingFallback", "encoding", "lineSep", "locale", "mode",
             "multiLine", "timestampFormat", "timestampNTZFormat"),
    "parquet": (*_FILE_INDEX, "datetimeRebaseMode", "int96RebaseMode"),
}

# Spark knows these names, but with a declared schema and a read they would have no effect
NOT_FOR_READING: dict[str, str] = {
    **{name: "it only steers schema inference, and a source reads with its declared schema"
       for name in ("inferSchema", "samplingRatio", "preferDate", "primitivesAsString",
                    "prefersDecimal", "dropFieldIfAllNull", "inferTimestamp", "mergeSchema")},
    "singleVariantColumn": "it replaces the declared schema by one variant column",
    "useUnsafeRow": "it is internal to Spark",
    **{name: "it only applies when Spark writes files"
       for name in ("compression", "codec", "parquet.compression", "quoteAll", "escapeQuotes",
                    "extension", "pretty", "ignoreNullFields",
                    "writeNonAsciiCharacterAsCodePoint")},
}


def check_source_options(pipeline: str, source: Source) -> None:
    """Refuse a field or reader option that ``source.format`` would not honor."""
    where = {"pipeline": pipeline, "source": source.name}
    if source.format == "delta":
        if source.path:
            raise DefinitionError("a delta source reads 'table', not 'path' (put the path in "
                                  "'table')", **where, key="path")
        if source.options:
            name = sorted(source.options)[0]
            raise DefinitionError(f"delta sources take no reader options, got '{name}' (the run "
                                  "pins the version it reads; filter with 'where')", **where,
                                  key=name)
        return
    if source.table:
        raise DefinitionError(f"a {source.format} source reads 'path', not 'table'", **where,
                              key="table")
    known = {n.lower(): n for n in READ_OPTIONS[source.format]}
    refused = {n.lower(): (n, why) for n, why in NOT_FOR_READING.items()}
    for name in source.options:
        if name.lower() in known:
            continue
        if name.lower() in refused:
            why = refused[name.lower()][1]
            raise DefinitionError(f"{source.format} option '{name}' is refused: {why}", **where,
                                  key=name)
        close = difflib.get_close_matches(name.lower(), list(known), n=1)
        hint = f" (did you mean '{known[close[0]]}'?)" if close else ""
        raise DefinitionError(f"unknown {source.format} option '{name}'{hint}", **where,
                              key=name)


def check_stage_options(pipeline: str, stage: Any) -> None:
    """Refuse salting and broadcast options a reduce or join would not act on."""
    where = {"pipeline": pipeline, "stage": stage.name}
    if not isinstance(stage, (Reduce, Join)):
        return
    if stage.hot_keys and stage.salt == "off":
        raise DefinitionError("'hot_keys' are declared but salt='off' never salts them", **where,
                              key="hot_keys")
    if isinstance(stage, Reduce):
        if stage.hot_keys and stage.salt == "auto" and not needs_salting(stage.aggs):
            raise DefinitionError(
                "'hot_keys' are declared but salt='auto' never salts a reduce whose aggregations "
                "are all combined map-side; set salt=N to salt them anyway", **where,
                key="hot_keys")
        return
    declared_salt = "salt" if isinstance(stage.salt, int) else "hot_keys" if stage.hot_keys else ""
    if declared_salt and not stage.by_name:
        raise DefinitionError(f"'{declared_salt}' needs a join on same-named 'on' columns and no "
                              "'condition' (rename the keys with WithColumns)", **where,
                              key=declared_salt)
    if stage.how not in SALTABLE_JOINS:
        if declared_salt:
            raise DefinitionError(f"'{declared_salt}' is not valid for a {stage.how} join "
                                  "(salting it would duplicate rows); use inner or left", **where,
                                  key=declared_salt)
        if stage.broadcast == "right":
            raise DefinitionError(f"broadcast='right' is not valid for a {stage.how} join: Spark "
                                  "can only broadcast the side whose unmatched rows are dropped",
                                  **where, key="broadcast")
    if stage.broadcast == "right" and declared_salt:
        raise DefinitionError(f"'{declared_salt}' with broadcast='right': a broadcast join has no "
                              "shuffle to salt", **where, key=declared_salt)


def check_sink_options(pipeline: str, sink: Sink) -> None:
    """Refuse a sink option its mode would not use."""
    where = {"pipeline": pipeline, "sink": sink.name}
    mode = mode_of(sink)
    if sink.replace_where and not mode.needs_replace_where:
        users = " and ".join(f"'{m.name}'" for m in MODES.values() if m.needs_replace_where)
        raise DefinitionError(f"'replace_where' is only used by mode {users}, not "
                              f"'{sink.mode}'", **where, key="replace_where")
    if sink.keys and not mode.needs_keys:
        users = " and ".join(f"'{m.name}'" for m in MODES.values() if m.needs_keys)
        raise DefinitionError(f"'keys' are only used by modes {users}, not '{sink.mode}'",
                              **where, key="keys")
    if isinstance(sink.salt_partitions, int) and not sink.partition_by:
        raise DefinitionError("'salt_partitions' spreads the rows of hot 'partition_by' values; "
                              "this sink declares no partition_by", **where,
                              key="salt_partitions")


def check_expectation_options(pipeline: str, node: str, check: Expectation) -> None:
    if check.max_drop_share is not None and check.severity != "drop":
        raise DefinitionError(f"{check.name}: 'max_drop_share' only applies to severity 'drop', "
                              f"not '{check.severity}'", pipeline=pipeline, stage=node,
                              key="max_drop_share")
