#!/usr/bin/env bash
# Mistake for exercise multi-platform (Part 7 lab): 2.0.0 for one platform, the other beside it.
#
# What the learner did wrong: pushed the usual build (the machine's own platform, linux/amd64)
# as 2.0.0, then built linux/arm64 separately and pushed it as 2.0.0-arm64. A Raspberry Pi that
# pulls 2.0.0 finds no image for itself.
#
# What the grader should say: 2.0.0 holds linux/amd64 only; :2.0.0-arm64 (linux/arm64) is a
# tag of its own; build every platform at once. index (an index, with the containerd image
# store) and lab-app pass.

set -euo pipefail

docker build -t "$REGISTRY/${LAB_APP}:2.0.0" .
docker push "$REGISTRY/${LAB_APP}:2.0.0"
docker buildx build --platform linux/arm64 -t "$REGISTRY/${LAB_APP}:2.0.0-arm64" --push .
