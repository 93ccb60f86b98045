#!/usr/bin/env bash
# Reference solution for exercise pull-by-version (Part 7 lab).
#
# Pull a version, not latest. Prerequisites: v1.0.0 on the hub (exercise hub-publish)
# and a newer latest (exercise semver-latest: v1.1.0). Then remove the local copies,
# log in, pull v1.0.0 by its version and latest, and log out: the two are different
# images, and only the version tag says which one you get.
#
# Run by `labcheck verify part7` as `bash -euo pipefail pull-by-version.sh` in a fresh
# workspace (a git repository holding the lab's app, version.txt = 1.0.0) with
# HUB_REGISTRY, HUB_USERNAME, HUB_PASSWORD and a throwaway DOCKER_CONFIG set.
# Ends logged out of the hub.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

# Prerequisite: v1.0.0 (exercise hub-publish)
docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

# Prerequisite: a new version, v1.1.0, as latest (exercise semver-latest)
echo 1.1.0 > version.txt
git commit -am "Release 1.1.0"
# --no-cache: on a daemon shared with other runs the build cache can hand back an
# image built earlier from the same files; a fresh build makes latest the newer image
docker build --no-cache -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}" -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
docker logout "$HUB_REGISTRY"

# The exercise: remove the local copies, then pull by version and latest
docker rmi "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}" "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin
docker pull "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"
docker pull "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
docker logout "$HUB_REGISTRY"

# Compare them: different image IDs, different version.txt
docker images "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}"
