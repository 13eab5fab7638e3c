#!/usr/bin/env bash
# Debian packages the tests drive for real: nginx (deployment test), headless Chromium
# with its driver (the web page's browser test) and espeak-ng (speech for the audio
# features' speechiness test).
set -euo pipefail
needed=()
command -v nginx >/dev/null || needed+=(nginx-light)
command -v chromium >/dev/null || needed+=(chromium)
command -v chromedriver >/dev/null || needed+=(chromium-driver)
command -v espeak-ng >/dev/null || needed+=(espeak-ng)
if ((${#needed[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
