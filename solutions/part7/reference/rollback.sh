#!/usr/bin/env bash
# Reference solution for exercise rollback (Part 7 lab).
#
# Roll production back by retagging. Prerequisite (exercise promote): 1.2.3 built once
# and promoted to staging and production. Then a new release: change the app, commit,
# build 1.3.0 and promote it to production. 1.3.0 "misbehaves": pull 1.2.3, tag it
# production again and push production. Nothing is rebuilt for the rollback.
#
# Run by `labcheck verify part7` as `bash -euo pipefail rollback.sh` in a fresh
# workspace (a git repository holding the lab's app) with REGISTRY set.

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

# A new release: change the app, commit, build 1.3.0 and promote it to production
echo 1.3.0 > version.txt
git commit -am "Release 1.3.0"
docker build -t "$REGISTRY/myapp:1.3.0" .
docker tag "$REGISTRY/myapp:1.3.0" "$REGISTRY/myapp:production"
docker push "$REGISTRY/myapp:1.3.0"
docker push "$REGISTRY/myapp:production"

# 1.3.0 misbehaves: roll production back to 1.2.3 by retagging
docker pull "$REGISTRY/myapp:1.2.3"
docker tag "$REGISTRY/myapp:1.2.3" "$REGISTRY/myapp:production"
docker push "$REGISTRY/myapp:production"
