#!/usr/bin/env bash
# Mistake for exercise multi-platform (Part 7 lab): built and pushed one platform only.
#
# What the learner did wrong: `--platform linux/amd64` alone. With the containerd image store
# the push still sends an image index (the amd64 image and its attestation), so the tag is an
# index, but it holds linux/amd64 only.
#
# What the grader should say: 2.0.0 holds linux/amd64 only, linux/arm64 is missing; build
# every platform at once (`--platform linux/amd64,linux/arm64`). index and lab-app pass.

set -euo pipefail

docker buildx build --platform linux/amd64 -t "$REGISTRY/${LAB_APP}:2.0.0" --push .
