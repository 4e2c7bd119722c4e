#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (agent/browser and
# agent/browser/agentcore drive it end to end) when it is missing. Those
# tests fail without it unless BEDROCKKIT_BROWSER_SKIP=1, which CI never
# sets.
#
#   bash .ci/chromium.sh
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	chromium --version 2>/dev/null || true
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "chromium is missing and installing it needs root: apt-get install -y --no-install-recommends chromium" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
t0=$SECONDS
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version 2>/dev/null || true
echo "chromium installed in $((SECONDS - t0)) s"
