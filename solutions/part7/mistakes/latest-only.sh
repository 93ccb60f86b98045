#!/usr/bin/env bash
# Mistake for exercise hub-publish (Part 7 lab): pushed only latest.
#
# What the learner did wrong: logged in properly, built my-app, tagged it latest AND
# v1.0.0, but pushed only latest. v1.0.0 exists on their machine and nowhere else, so
# nobody can pull the release by its version.
#
# What the grader should say: v1.0.0 is not on the hub (push it:
# `docker push $HUB_REGISTRY/$HUB_USERNAME/my-app:v1.0.0`); with no v1.0.0 there, the
# one-image and lab-app checks (both about v1.0.0) fail too. latest-pushed,
# password-stdin and logged-out pass.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker tag "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

# The mistake: only latest is pushed
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

docker logout "$HUB_REGISTRY"
