#!/usr/bin/env bash
# Audit the locked dependencies (requirements.lock) for known vulnerabilities with pip-audit.
# pip-audit asks PyPI's JSON API about each pinned release; where that API cannot be reached
# (a machine that only sees a PyPI mirror), it says so and audits nothing, rather than pass
# as if it had looked. PAPERFEED_AUDIT_REQUIRED=1 makes an unreachable service a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_AUDIT=${PIP_AUDIT:-.venv/bin/pip-audit}
probe=https://pypi.org/pypi/pip/24.0/json  # what pip-audit asks, per release
if ! curl -fsS --max-time 15 -o /dev/null "$probe" 2> /dev/null; then
  echo "pip-audit: $probe cannot be reached from here: requirements.lock NOT audited" >&2
  [ "${PAPERFEED_AUDIT_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi
# --strict: a package that could not be looked up fails the audit too.
"$PIP_AUDIT" --strict --no-deps --disable-pip -r requirements.lock
