#!/bin/sh
# Starts the hub (`scripts/start-hub.sh start`, or `migrate`) with the Node/V8 flags it is meant to
# run with. HUB_NODE_FLAGS replaces the defaults (HUB_NODE_FLAGS= runs plain node).
#
# --heap-growing-percent=50: after each full garbage collection V8 lets the heap grow to 1.5x what
# is live before the next one. V8's own factor goes up to 4x and, on a host with gigabytes of RAM,
# left the hub at 400-1100 MiB resident while under 150 MiB was live (docs/benchmarks.md, SFTP).
# This is a pacing rule, not a cap: the live set is bounded by design (streamed files, pipeline
# jobs cut by HUB_PIPELINE_JOB_BYTES and admitted by HUB_PIPELINE_INFLIGHT_BYTES), and a message
# that really needs more memory still gets it instead of killing the process, as
# --max-old-space-size would. The flag is a V8 option, so it is given here, not in NODE_OPTIONS
# (Node refuses it there); measured cost: no visible throughput change in the SFTP benchmark.
exec node ${HUB_NODE_FLAGS-"--heap-growing-percent=50"} "$(dirname "$0")/../dist/src/main.js" "$@"
