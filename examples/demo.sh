#!/usr/bin/env bash
# The main job: write the bundled example study (simulated with the two studies' parameters),
# analyse it into its lab database and write its report. Run through `make demo`, which puts
# .venv/bin first on PATH. Run it again and nothing is recomputed.
set -euo pipefail

OUT="${SSBKIT_DEMO_OUT:-ssbkit-demo}"
ssbkit demo --out "$OUT" --workers "${SSBKIT_DEMO_WORKERS:-2}"
