#!/usr/bin/env bash
# Mistake for exercise multi-platform (Part 7 lab): one tag per platform, no 2.0.0.
#
# What the learner did wrong: built each platform on its own and pushed it under a tag of its
# own, 2.0.0-amd64 and 2.0.0-arm64. Both images are in the registry, but no tag names one
# index holding both, and 2.0.0 does not exist.
#
# What the grader should say: you pushed :2.0.0-amd64 (linux/amd64) and :2.0.0-arm64
# (linux/arm64), one platform per tag, but no :2.0.0; build every platform at once. Every check
# of the exercise fails (lab-app reads 2.0.0 too).

set -euo pipefail

docker buildx build --platform linux/amd64 -t "$REGISTRY/${LAB_APP}:2.0.0-amd64" --push .
docker buildx build --platform linux/arm64 -t "$REGISTRY/${LAB_APP}:2.0.0-arm64" --push .
