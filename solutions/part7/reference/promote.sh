#!/usr/bin/env bash
# Reference solution for exercise promote (Part 7 lab).
#
# Build once, promote by retagging: one build tagged 1.2.3 and latest, the SAME image
# tagged staging and production with `docker tag`, all four pushed to the lab's
# registry as $REGISTRY/myapp (the lesson's myregistry/myapp).
#
# Run by `labcheck verify part7` as `bash -euo pipefail promote.sh` in a fresh
# workspace (a git repository holding the lab's app) with REGISTRY set.

set -euo pipefail

# The release: version 1.2.3 of the app, committed
echo 1.2.3 > version.txt
git commit -am "Release 1.2.3"

# Tag with multiple tags
docker build -t "$REGISTRY/myapp:1.2.3" -t "$REGISTRY/myapp:latest" .

# Tag an existing image (promotion is a retag, not a rebuild)
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:staging"
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:production"

# Push all tags
docker push "$REGISTRY/myapp:1.2.3"
docker push "$REGISTRY/myapp:latest"
docker push "$REGISTRY/myapp:staging"
docker push "$REGISTRY/myapp:production"
