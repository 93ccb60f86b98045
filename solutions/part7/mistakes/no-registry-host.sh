#!/usr/bin/env bash
# Mistake for exercise hub-publish (Part 7 lab): v1.0.0 tagged without the registry host.
#
# What the learner did wrong: copied the lesson's Docker Hub tag literally,
# `docker tag my-app $HUB_USERNAME/my-app:v1.0.0`, with no registry host in front.
# Without a host, the name means docker.io (the real Docker Hub), not the lab's hub:
# a push would go to Docker Hub (unreachable here, so this script does not push it).
# latest was tagged and pushed with the host; v1.0.0 never reaches the lab's hub.
# (The script tags from the build's hub name rather than a bare `my-app`, a tag shared
# by everything on this Docker daemon; the mistake is the same: the target has no host.)
#
# What the grader should say: v1.0.0 is not on the hub; a local image is tagged
# $HUB_USERNAME/my-app:v1.0.0 without the registry host (tag it
# $HUB_REGISTRY/$HUB_USERNAME/my-app:v1.0.0). one-image and lab-app, both about
# v1.0.0, fail too. latest-pushed, password-stdin and logged-out pass.

set -euo pipefail

echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .

# The mistake: no registry host in the version tag (so it is never pushed to the hub)
docker tag "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" "$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"

docker logout "$HUB_REGISTRY"
