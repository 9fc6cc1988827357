#!/usr/bin/env bash
# Debian packages the browser and compose tests use: headless chromium + chromedriver, and
# docker-compose (for `docker-compose config`). Installed when missing and this is a Debian
# machine where we are root (CI, a fresh dev box); otherwise those tests skip and say why.
set -euo pipefail
wanted=()
command -v chromium >/dev/null || wanted+=(chromium)
command -v chromedriver >/dev/null || wanted+=(chromium-driver)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || wanted+=(docker-compose)
if [ ${#wanted[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Not installing ${wanted[*]} (needs root and apt-get): the UI and compose tests will skip." >&2
  exit 0
fi
echo "Installing ${wanted[*]} for the UI and compose tests ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
