#!/usr/bin/env bash
# The container engine for the tests marked `container`: filled in by the deployment work.
set -euo pipefail
