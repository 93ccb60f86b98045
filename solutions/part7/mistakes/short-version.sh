#!/usr/bin/env bash
# Mistake for exercise semver-latest (Part 7 lab): v1.0 instead of v1.0.0.
#
# What the learner did wrong: released the first version as v1.0 (two numbers, not a
# semantic version MAJOR.MINOR.PATCH), then released v1.1.0 correctly and moved latest
# to it. There is no v1.0.0 on the hub.
#
# What the grader should say: v1.0.0 is missing; the hub has v1.0, which is not a
# semantic version (use v1.0.0). versions-differ fails too, having no v1.0.0 to
# compare with v1.1.0. second-version and latest-moved pass.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

# The mistake: the first release is tagged v1.0
docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION%.*}" -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION%.*}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

echo 1.1.0 > version.txt
git commit -am "Release 1.1.0"

# --no-cache: on a daemon shared with other runs the build cache can hand back an
# image built earlier from the same files, so v1.1.0 could look OLDER than v1.0.0; a
# fresh build is newer, as it is on a learner's machine
docker build --no-cache -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}" -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_NEXT_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

docker logout "$HUB_REGISTRY"
