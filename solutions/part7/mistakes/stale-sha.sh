#!/usr/bin/env bash
# Mistake for exercise git-sha (Part 7 lab): the SHA tag names an older commit.
#
# What the learner did wrong: ran `GIT_SHA=$(git rev-parse --short HEAD)` first, THEN
# changed the app and committed. The image holds the new code (version.txt 1.1.0) but
# is tagged with the SHA of the previous commit (version.txt 1.0.0), so the tag points
# anyone who looks it up at the wrong code. latest is that same mislabelled image.
#
# What the grader should say: the image tagged <old sha> does not hold that commit's
# code (its /app/version.txt differs from `git show <old sha>:version.txt`); and since
# no tag holds its commit's code, latest is not the newest commit-tagged image.

set -euo pipefail

# The mistake: the SHA is taken before the change is committed
GIT_SHA=$(git rev-parse --short HEAD)

echo 1.1.0 > version.txt
git commit -am "Release 1.1.0"

docker build -t "$REGISTRY/${LAB_APP}:${GIT_SHA}" -t "$REGISTRY/${LAB_APP}:latest" .
docker push "$REGISTRY/${LAB_APP}:${GIT_SHA}"
docker push "$REGISTRY/${LAB_APP}:latest"
