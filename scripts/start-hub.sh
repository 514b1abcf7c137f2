#!/bin/sh
# Starts the hub (`scripts/start-hub.sh start`, or `migrate`) with the Node/V8 flags it is meant to
# run with. HUB_NODE_FLAGS replaces the defaults (HUB_NODE_FLAGS= runs plain node).
#
# --heap-growing-percent=30: after each full garbage collection V8 lets the heap grow to 1.3x what
# is live before the next one. V8's own factor goes up to 4x and, on a host with gigabytes of RAM,
# left the hub at 400-1100 MiB resident while under 150 MiB was live (docs/benchmarks.md, SFTP).
# --max-semi-space-size=4: a 4 MiB young generation instead of up to 16 MiB per semi-space.
# Together they keep a hub ingesting 200 MB of X12 over SFTP under 300 MB resident (267 MiB,
# against 311 MiB with 1.5x and the default young generation) for about 11 % more CPU on that path.
# This is pacing, not a cap: the live set is bounded by design (streamed files, pipeline jobs cut by
# HUB_PIPELINE_JOB_BYTES and admitted by HUB_PIPELINE_INFLIGHT_BYTES, matching findings recorded in
# chunks), and a message that really needs more memory still gets it instead of killing the process,
# as --max-old-space-size would. These are V8 options, so they are given here, not in NODE_OPTIONS
# (Node refuses them there).
# Unquoted on purpose: the flags are split into separate arguments.
flags=${HUB_NODE_FLAGS-"--heap-growing-percent=30 --max-semi-space-size=4"}
exec node $flags "$(dirname "$0")/../dist/src/main.js" "$@"
