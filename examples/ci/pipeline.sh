#!/usr/bin/env bash
# The pipeline of docs/ci.md as one script: train, store, register, gate on the yard's guards,
# check drift, promote. Every step after training is the modelyard command line, and every
# failure is its exit code: 4 a guard refused, 1 drift found, 3 not found, 2 a usage error.
#
#   MODELYARD_YARD=./yard bash examples/ci/pipeline.sh             # or s3://bucket/prefix
#   TRAIN_ARGS="--shift 1" bash examples/ci/pipeline.sh            # drifted traffic: exits 1
#   TRAIN_ARGS="--noise 0.45" bash examples/ci/pipeline.sh         # a poor model: exits 4
set -euo pipefail

: "${MODELYARD_YARD:?set MODELYARD_YARD to the yard: a folder or s3://bucket/prefix}"
export MODELYARD_YARD
export MODELYARD_ACTOR="${MODELYARD_ACTOR:-ci}"
here="$(cd "$(dirname "$0")" && pwd)"
build="${BUILD_DIR:-build}"
run_id="${RUN_ID:-local}"

# One field of the JSON a command printed with --json (a dotted path).
field() {
  python -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"
}

echo "--- train"
# shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
python "$here/train.py" --out "$build" ${TRAIN_ARGS:-}
. "$build/metrics.env"

echo "--- the release policy: guards on every stage change, stored in the yard"
modelyard lifecycle set "$here/lifecycle.json" --reason "release policy of the repository"

echo "--- store the data and the model, with their lineage"
data=$(modelyard artifacts put "$build/train.parquet" --name churn-train --json | field id)
model=$(modelyard artifacts put "$build/model.joblib" --name churn-model --parent "$data" --json \
  | field id)

echo "--- register, then ask the guards for staging (auc >= 0.8)"
version=$(modelyard registry register churn "$model" --metric "auc=$AUC" --tag "run=$run_id" \
  --json | field version.version)
modelyard registry transition churn "$version" staging --reason "trained by run $run_id"

echo "--- drift: this week's traffic against the training data"
modelyard drift profile "$build/train.parquet" --name churn-reference
modelyard drift compare artifacts:/churn-reference@latest "$build/current.parquet" \
  --html "$build/drift.html"

echo "--- release: a second person approves, the guards decide"
modelyard registry approve churn "$version" production --actor release-manager \
  --comment "checked the drift report of run $run_id"
modelyard registry transition churn "$version" production --reason "released by run $run_id"
modelyard registry resolve models:/churn@production
