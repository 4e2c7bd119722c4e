#!/usr/bin/env bash
# Syncs a folder of good documents and hostile ones (PDFs that once made a
# parser allocate tens of gigabytes or loop forever, DOCX/JSON/CSV bombs)
# under a 2 GiB address-space limit, without the race detector (whose
# shadow memory cannot fit under such a limit). Fails on a crash, a hang,
# a good document not indexed or a hostile one not reported with its error.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache="${BEDROCKKIT_PDF_CACHE:-${TMPDIR:-/tmp}/bedrockkit-pdf-engine-cache}"
go build -o "$tmp/hostilesync" ./internal/cmd/hostilesync
# Compiling the PDF engine (once per machine) needs more heap than fits
# beside the Go runtime's reservations under the limit: do it first.
"$tmp/hostilesync" -warm -cache "$cache"
prlimit --as=2147483648 -- "$tmp/hostilesync" -cache "$cache" -timeout 5m
