#!/usr/bin/env bash
# Mistake for exercise ecr (Part 7 lab): the ECR password on the docker login command line.
#
# What the learner did wrong: copied the token once and kept a push script in their
# workspace, push-ecr.sh, that runs `docker login -u AWS -p <token>`. It works (until the
# 12-hour token expires), but the password is in the file, in shell history and in `ps`.
#
# What the grader should say: push-ecr.sh passes the password with -p; pipe
# `aws ecr get-login-password` into `docker login --password-stdin` instead. Every other
# ecr check passes.

set -euo pipefail
APP=${LAB_APP:-my-app}

aws ecr create-repository --repository-name "$APP"

# The mistake: the token pasted into a script (written out as the learner would have it)
{
  echo '#!/usr/bin/env bash'
  echo 'set -euo pipefail'
  printf 'docker login --username AWS -p %q %q\n' "$(aws ecr get-login-password)" "$ECR_REGISTRY"
  printf 'docker build -t %q .\n' "$ECR_REGISTRY/$APP:1.0.0"
  printf 'docker push %q\n' "$ECR_REGISTRY/$APP:1.0.0"
} > push-ecr.sh
chmod +x push-ecr.sh
./push-ecr.sh
