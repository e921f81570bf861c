#!/usr/bin/env bash
# Regenerates the README's pictures of every mode with the bundled model (docs/modes/).
set -euo pipefail
cd "$(dirname "$0")/.."
T="node bin/tessera.js"
D=docs/modes
mkdir -p $D
$T world render --prompt "a red ball on a snowy meadow" --frames 1 --size 128x128 --out $D/input.png >/dev/null
$T world render --prompt "a green square moves right on a plain white background" --frames 17 --size 128x128 --out $D/input-b.gif >/dev/null
$T generate "a red ball bounces on a snowy meadow" --seed 3 --out $D/generate.gif --quiet
$T image "a yellow star on a plain blue background" --seed 4 --out $D/image.png --quiet
$T animate "a red ball bounces on a snowy meadow" --image $D/input.png --seed 5 --out $D/animate.gif --quiet
$T extend "the ball keeps bouncing" --video $D/generate.gif --frames 12 --seed 6 --out $D/extend.gif --quiet
$T loop "a red ball bounces on a snowy meadow" --image $D/input.png --seed 7 --out $D/loop.gif --quiet
$T connect "a transition" --from $D/generate.gif --to $D/input-b.gif --seed 8 --out $D/connect.gif --quiet
$T edit "a blue ball bounces on a snowy meadow" --video $D/generate.gif --strength 0.6 --seed 9 --out $D/edit.gif --quiet
$T generate "a blue ball bounces on a snowy meadow" --remix $D/generate.gif --out $D/remix.gif --quiet
# the sidecar of settings each command writes beside its output is not part of the pictures
rm -f $D/*.json
ls -la $D
