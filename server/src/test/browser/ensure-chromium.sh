#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the browser test (BrowserIT): installs it with apt-get when it is
# missing and this runs as root; otherwise says what to do. Prints the executable's path.
set -euo pipefail
chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing at $chromium and this is not root: install it (apt-get install chromium)" >&2
    exit 1
  fi
  echo "installing chromium with apt-get (once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
[ -x "$chromium" ] || { echo "chromium is still missing at $chromium after apt-get install" >&2; exit 1; }
echo "$chromium"
