#!/usr/bin/env bash
# Mistake for exercise rollback (Part 7 lab): "rolled back" latest, not production.
#
# What the learner did wrong: promoted 1.2.3, released 1.3.0 (built as 1.3.0 and
# latest) and promoted it to production correctly; then, to roll back, retagged 1.2.3
# as latest and re-pushed latest. Production, which is what is deployed, still runs
# 1.3.0.
#
# What the grader should say: production is not 1.2.3 (it is still 1.3.0): retag
# 1.2.3 as production and push production. new-release and release-differs pass.

set -euo pipefail

# Prerequisite: release 1.2.3 and promote it (exercise promote)
echo 1.2.3 > version.txt
git commit -am "Release 1.2.3"
docker build -t "$REGISTRY/myapp:1.2.3" -t "$REGISTRY/myapp:latest" .
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:staging"
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:production"
docker push "$REGISTRY/myapp:1.2.3"
docker push "$REGISTRY/myapp:latest"
docker push "$REGISTRY/myapp:staging"
docker push "$REGISTRY/myapp:production"

# Release 1.3.0 and promote it to production
echo 1.3.0 > version.txt
git commit -am "Release 1.3.0"
docker build -t "$REGISTRY/myapp:1.3.0" -t "$REGISTRY/myapp:latest" .
docker tag "$REGISTRY/myapp:1.3.0" "$REGISTRY/myapp:production"
docker push "$REGISTRY/myapp:1.3.0"
docker push "$REGISTRY/myapp:latest"
docker push "$REGISTRY/myapp:production"

# The mistake: the "rollback" moves latest, production is untouched
docker pull "$REGISTRY/myapp:1.2.3"
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:latest"
docker push "$REGISTRY/myapp:latest"
