#!/usr/bin/env bash
# Mistake for exercise hub-publish (Part 7 lab): never logged out.
#
# What the learner did wrong: logged in with --password-stdin and published latest and
# v1.0.0 as one image, but skipped `docker logout`. The hub credentials stay in the
# Docker config (config.json, base64, not encrypted) for anyone with that account.
#
# What the grader should say: credentials for the hub remain in the Docker config:
# run `docker logout $HUB_REGISTRY`. Every other hub-publish check passes.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker tag "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

# The mistake: no `docker logout "$HUB_REGISTRY"`
