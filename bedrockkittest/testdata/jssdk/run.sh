#!/bin/sh
# Checks FakeBedrock against an independent client, the AWS SDK for
# JavaScript v3: installs @aws-sdk/client-bedrock-runtime into a scratch
# directory (outside the repository) and runs the Go test that drives
# check.js against the fake. Needs node (>= 18) and npm.
#
#   bedrockkittest/testdata/jssdk/run.sh            # latest 3.x
#   JSSDK_VERSION=3.1178.0 bedrockkittest/testdata/jssdk/run.sh
#
# JSSDK_DIR (default: a fresh temporary directory) keeps node_modules
# between runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dir=${JSSDK_DIR:-$(mktemp -d)}
version=${JSSDK_VERSION:-3}
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error "@aws-sdk/client-bedrock-runtime@$version")
cd "$root"
BEDROCKKIT_JS_SDK_DIR="$dir" go test -count=1 -run TestJavaScriptSDKAgainstFakeBedrock -v ./bedrockkittest
