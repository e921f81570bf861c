#!/bin/bash
# The bundled model's lineage trained again from scratch on the motion VAE (docs/training-log.md, "The bundled
# lineage retrained on the motion VAE"): its five DiT stages one after another, then the ship rule's measurement
# (all 240 prompts at seeds 6, 7 and 8, three evaluations at once on one thread each). Run it again after an
# interruption: a finished stage is skipped, an unfinished one resumes from its checkpoints. Stages 2, 3 and 5 start
# from a float16 export of the stage before, as the bundled lineage's did; stage 4 from the third's run export.
# Usage: bash scripts/motion-vae-lineage.sh   (from anywhere; logs in runs/lineage-train.log, reports in runs/evals/)
set -u
cd "$(dirname "$0")/.."
mkdir -p runs/motion-vae-lineage runs/evals
log() { echo "$(date -u +%FT%T) $*"; }
total() { node bin/tessera.js train dit --config "$1" --print-config | python3 -c "import json,sys; print(json.load(sys.stdin)['optim']['totalSteps'])"; }
step() { python3 -c "import json; print(json.load(open('$1/latest.json'))['step'])" 2>/dev/null || echo 0; }

stage() {  # CONFIG RUN_DIR [FLOAT16_EXPORT]
  local config=$1 dir=$2 f16=${3:-}
  # a stage already training (started by hand) is waited for, never run twice on one run folder
  while pgrep -f "train dit --config $config" > /dev/null; do sleep 60; done
  if [ "$(step "$dir")" != "$(total "$config")" ] || [ ! -d "$dir/export" ]; then
    log "start $config at step $(step "$dir")"
    TESSERA_THREADS=2 node bin/tessera.js train dit --config "$config" --quiet >> runs/lineage-train.log 2>&1 || { log "$config failed"; exit 1; }
    [ "$(step "$dir")" = "$(total "$config")" ] || { log "$config stopped at step $(step "$dir")"; exit 1; }
    log "done $config"
  fi
  if [ -n "$f16" ] && [ ! -f "$f16/model_index.json" ]; then
    node bin/tessera.js export --from "$dir/export" --to "$f16" >> runs/lineage-train.log 2>&1 || { log "export $f16 failed"; exit 1; }
    log "exported $f16"
  fi
}

stage configs/dit-world-motion-vae-scratch.json runs/dit-world-motion-vae-scratch runs/motion-vae-lineage/stage-1-f16
stage configs/dit-world-motion-vae-scratch-2.json runs/dit-world-motion-vae-scratch-2 runs/motion-vae-lineage/stage-2-f16
stage configs/dit-world-motion-vae-scratch-3.json runs/dit-world-motion-vae-scratch-3
stage configs/dit-world-motion-vae-scratch-4.json runs/dit-world-motion-vae-scratch-4 runs/motion-vae-lineage/stage-4-f16
stage configs/dit-world-motion-vae-scratch-5.json runs/dit-world-motion-vae-scratch-5 runs/motion-vae-lineage/stage-5-f16

log "lineage trained; measuring (all 240 prompts, seeds 6, 7, 8)"
for seed in 6 7 8; do
  [ -f "runs/evals/lineage-all-s$seed.json" ] && continue
  TESSERA_THREADS=1 node bin/tessera.js eval --model runs/motion-vae-lineage/stage-5-f16 --seeds "$seed" --no-vae --no-reference \
    --json --quiet --out "runs/evals/lineage-all-s$seed.json" > /dev/null 2> "runs/evals/lineage-all-s$seed.err" &
done
wait
log "measured: runs/evals/lineage-all-s{6,7,8}.json"
