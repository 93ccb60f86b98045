#!/usr/bin/env bash
# Mistake for exercise hub-publish (Part 7 lab): password on the docker login command line.
#
# What the learner did wrong: followed the lesson's "login with credentials inline"
# and kept it in a script in their workspace, publish.sh, which they ran. Everything is
# published correctly and they log out, but the password is passed with -p: it lands
# in the process list, in shell history, and in a file they may commit.
#
# What the grader should say: publish.sh runs `docker login` with the password on the
# command line; pipe it in with --password-stdin instead. Every other hub-publish
# check passes.

set -euo pipefail

# The mistake: a publish script in the workspace with the password typed inline
# (written out here with the lab's real values, as the learner would have typed them)
{
  echo '#!/usr/bin/env bash'
  echo 'set -euo pipefail'
  printf 'docker login %q -u %q -p %q\n' "$HUB_REGISTRY" "$HUB_USERNAME" "$HUB_PASSWORD"
} > publish.sh
cat >> publish.sh <<'SCRIPT'
docker build -t "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" .
docker tag "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest" "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:latest"
docker push "$HUB_REGISTRY/$HUB_USERNAME/${LAB_APP}:${LAB_VERSION}"
docker logout "$HUB_REGISTRY"
SCRIPT
chmod +x publish.sh
./publish.sh
