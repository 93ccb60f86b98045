#!/usr/bin/env bash
# Reference solution for exercise git-sha (Part 7 lab).
#
# Tag the build with the git commit: commit the change FIRST, then take
# `git rev-parse --short HEAD`, so the SHA tag names the commit whose code is in the
# image; push the SHA tag and latest to the lab's registry ($REGISTRY/my-app).
#
# Run by `labcheck verify part7` as `bash -euo pipefail git-sha.sh` in a fresh
# workspace (a git repository holding the lab's app) with REGISTRY set.
#
# The lesson builds twice (`-t ...:${GIT_SHA}`, then `-t ...:latest`) and relies on the
# build cache to make the two the same image; one build with both tags is the same
# result without that reliance.

set -euo pipefail

# A new version: change the app and commit it
echo 1.1.0 > version.txt
git commit -am "Release 1.1.0"

# Tag with git commit SHA (taken after the commit)
GIT_SHA=$(git rev-parse --short HEAD)
docker build -t "$REGISTRY/${LAB_APP}:${GIT_SHA}" -t "$REGISTRY/${LAB_APP}:latest" .
docker push "$REGISTRY/${LAB_APP}:${GIT_SHA}"
docker push "$REGISTRY/${LAB_APP}:latest"
