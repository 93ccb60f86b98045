#!/usr/bin/env bash
# Mistake for exercise hub-publish (Part 7 lab): rebuilt between the two tags.
#
# What the learner did wrong: built my-app, tagged and pushed latest, then ran
# `docker build` again before tagging and pushing v1.0.0. Same source, but a second
# build is a second image (new layers, new creation time), so latest and v1.0.0 were
# never one image. (The classic builder's cache would make an unchanged rebuild
# identical; the learner's second build used --no-cache, as a CI job building from
# scratch would, so it really is a new build.) v1.0.0 is also the NEWER of the two,
# so latest never pointed at the release.
#
# What the grader should say: latest and v1.0.0 are different images: v1.0.0 was
# rebuilt instead of tagged from the same build. Every other hub-publish check passes.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

# The mistake: a second build for the version tag
docker build --no-cache -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}" .
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

docker logout "$HUB_REGISTRY"
