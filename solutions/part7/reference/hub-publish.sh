#!/usr/bin/env bash
# Reference solution for exercise hub-publish (Part 7 lab).
#
# Publish my-app on the lab's "Docker Hub" ($HUB_REGISTRY, a registry with login) as
# $HUB_USERNAME/my-app: log in with --password-stdin (the password never appears on a
# command line), tag ONE image as latest and v1.0.0, push both tags, log out.
#
# Run by `labcheck verify part7` as `bash -euo pipefail hub-publish.sh` in a fresh
# workspace (a git repository holding the lab's app, version.txt = 1.0.0) with
# HUB_REGISTRY, HUB_USERNAME, HUB_PASSWORD and a throwaway DOCKER_CONFIG set.
#
# Built straight under the hub name rather than as a bare `my-app` (a tag shared by
# everything on this Docker daemon); the second tag is added with `docker tag`, so
# latest and v1.0.0 are the same image.

set -euo pipefail

# Login (the password comes from stdin, not the command line)
echo "$HUB_PASSWORD" | docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin

# Build image, tagged for the hub: <registry>/<username>/<repo>:<tag>
docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker tag "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

# Push to the hub
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"

# Logout when done
docker logout "$HUB_REGISTRY"
