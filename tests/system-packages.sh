#!/usr/bin/env bash
# Debian packages the browser, compose and OpenSSH tests use: headless chromium + chromedriver,
# docker-compose (for `docker-compose config`) and openssh-server (the production SFTP setup,
# started by the tests with their own `sshd -f`). Installed when missing and this is a Debian
# machine where we are root (CI, a fresh dev box); otherwise those tests skip and say why.
set -euo pipefail
wanted=()
command -v chromium >/dev/null || wanted+=(chromium)
command -v chromedriver >/dev/null || wanted+=(chromium-driver)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || wanted+=(docker-compose)
[ -x /usr/sbin/sshd ] || wanted+=(openssh-server)
if [ ${#wanted[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Not installing ${wanted[*]} (needs root and apt-get): the UI, compose or OpenSSH tests will skip." >&2
  exit 0
fi
echo "Installing ${wanted[*]} for the UI, compose and OpenSSH tests ..."
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' services (the system sshd on port 22) from starting: the tests start their own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
