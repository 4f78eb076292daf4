#!/usr/bin/env bash
# Bundles scripts/profile.ts into one file for the GPU machine (Node and nothing else):
# dist/profile/profile.mjs, with Dawn's dawn.node where the bundled 'webgpu' package looks
# for it (dist/linux-x64/ beside the bundle). Then, from the repository root:
#   ../shared/device/pack.sh packages/webgpu-trainer/dist/profile
#   source .device/setup.sh && node .device/app/profile/profile.mjs resnet56 128 --steps 20
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/dist/profile"
rm -rf "$out" && mkdir -p "$out/dist/linux-x64"
cd "$here"
npx esbuild scripts/profile.ts --bundle --platform=node --target=node20 --format=esm \
  --conditions=source --outfile="$out/profile.mjs" '--external:*.node' --log-level=warning \
  "--banner:js=import { createRequire as __createRequire } from 'node:module'; import { fileURLToPath as __fileURLToPath } from 'node:url'; import { dirname as __pathDirname } from 'node:path'; const require = __createRequire(import.meta.url); const __filename = __fileURLToPath(import.meta.url); const __dirname = __pathDirname(__filename);"
dawn=$(node -e "const r=require('module').createRequire('$here/../engine/package.json');console.log(require('path').join(require('path').dirname(r.resolve('webgpu/package.json')),'dist/linux-x64/dawn.node'))")
cp "$dawn" "$out/dist/linux-x64/"
du -sh "$out" | awk '{print "bundled " $2 " (" $1 ")"}'
