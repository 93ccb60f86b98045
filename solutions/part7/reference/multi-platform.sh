#!/usr/bin/env bash
# Reference solution for exercise multi-platform (Part 7 lab).
#
# One build for linux/amd64 and linux/arm64, pushed straight from the builder: the registry
# gets an image per platform and one image index naming both under 2.0.0 (plus BuildKit's
# attestation manifests, which are not platforms). The app's Dockerfile only COPYs onto its
# base, so no emulation is needed for arm64: the base image must have both platforms.
#
# Needs the containerd image store (`labcheck verify` skips it on the classic store). Run by
# `labcheck verify part7` as `bash -euo pipefail multi-platform.sh` in a fresh workspace with
# REGISTRY and LAB_APP set.

set -euo pipefail

docker buildx build --platform linux/amd64,linux/arm64 -t "$REGISTRY/${LAB_APP}:2.0.0" --push .
docker buildx imagetools inspect "$REGISTRY/${LAB_APP}:2.0.0"
