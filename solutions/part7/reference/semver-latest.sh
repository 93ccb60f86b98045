#!/usr/bin/env bash
# Reference solution for exercise semver-latest (Part 7 lab).
#
# Semantic versions and a moving latest on the hub's $HUB_USERNAME/my-app: release
# v1.0.0 (as in hub-publish: one image tagged v1.0.0 and latest), change the app and
# commit it, then build v1.1.0 and latest in one build and push both, so latest moves
# to v1.1.0 while v1.0.0 keeps the old build.
#
# Run by `labcheck verify part7` as `bash -euo pipefail semver-latest.sh` in a fresh
# workspace (a git repository holding the lab's app, version.txt = 1.0.0) with
# HUB_REGISTRY, HUB_USERNAME, HUB_PASSWORD and a throwaway DOCKER_CONFIG set.
# Ends logged out of the hub.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

# Release v1.0.0 (latest points at it for now)
docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}" -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

# A new version: change the app, commit, rebuild
echo 1.1.0 > version.txt
git commit -am "Release 1.1.0"

# Release v1.1.0 and move latest to it
# --no-cache: on a daemon shared with other runs the build cache can hand back an
# image built earlier from the same files, so v1.1.0 could look OLDER than v1.0.0; a
# fresh build is newer, as it is on a learner's machine
docker build --no-cache -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}" -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

docker logout "$HUB_REGISTRY"
