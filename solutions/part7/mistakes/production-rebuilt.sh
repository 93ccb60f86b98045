#!/usr/bin/env bash
# Mistake for exercise promote (Part 7 lab): production rebuilt instead of retagged.
#
# What the learner did wrong: built 1.2.3 and latest in one build and retagged it as
# staging, but for production ran a fresh `docker build` (from the same source, with
# --no-cache, as a separate "production build" job would). The image in production is
# not the one that was tested as 1.2.3/staging: different layers, different digest.
#
# What the grader should say: production is a different image from 1.2.3: it was
# rebuilt, not promoted by `docker tag`. release-pushed and latest-pushed pass.

set -euo pipefail

echo 1.2.3 > version.txt
git commit -am "Release 1.2.3"

docker build -t "$REGISTRY/myapp:1.2.3" -t "$REGISTRY/myapp:latest" .
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:staging"

# The mistake: production gets its own build
docker build --no-cache -t "$REGISTRY/myapp:production" .

docker push "$REGISTRY/myapp:1.2.3"
docker push "$REGISTRY/myapp:latest"
docker push "$REGISTRY/myapp:staging"
docker push "$REGISTRY/myapp:production"
