#!/usr/bin/env bash
# Reference solution for exercise local-registry (Part 7 lab).
#
# The lesson's self-hosted registry: build my-app, push it to the lab's registry:2
# ($REGISTRY stands in for the lesson's localhost:5000), remove the local copy and
# pull it back, so the local image now comes from the registry at its digest.
#
# Run by `labcheck verify part7` as `bash -euo pipefail local-registry.sh` in a fresh
# workspace (a git repository holding the lab's app) with REGISTRY set.
#
# The image is built straight under its registry name (as the lesson does with
# `docker build -t yourusername/my-app:${GIT_SHA} .`) rather than as a bare `my-app`
# first: the bare name is one tag shared by everything on this Docker daemon, while
# $REGISTRY/... is unique to this lab.

set -euo pipefail

docker build -t "$REGISTRY/${LAB_APP}:latest" .
docker push "$REGISTRY/${LAB_APP}:latest"

# Remove the local copy, then pull it from the registry
docker rmi "$REGISTRY/${LAB_APP}:latest"
docker pull "$REGISTRY/${LAB_APP}:latest"
