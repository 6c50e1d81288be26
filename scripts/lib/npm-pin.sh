# npm-pin.sh, sourced by the check scripts that need an npm package pinned
# in .ci/<folder> (package.json + package-lock.json).
#
# npm_pin TOOL FOLDER PACKAGE [FILE] sets $pin_version (the version pinned
# in .ci/FOLDER/package.json) and $pin_dir (where it is installed: once,
# into ${ACPBRIDGE_CACHE:-~/.cache/acpbridge}/FOLDER-VERSION, again when the
# lock changes or FILE, relative to $pin_dir, is missing). Without npm it
# says TOOL was skipped and exits 0, except under CI=true, where it fails.
npm_pin() {
  local tool="$1" folder="$2" package="$3" file="${4:-node_modules/$3/package.json}"
  local root pin
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  pin="$root/.ci/$folder"
  pin_version="$(sed -n "s/.*\"${package//\//\\/}\": \"\([0-9.]*\)\".*/\1/p" "$pin/package.json")"
  pin_dir="${ACPBRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/acpbridge}/$folder-$pin_version"
  if ! command -v npm >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
      echo "$tool: npm (Node.js 20+) is needed to install $package" >&2
      exit 1
    fi
    echo "$tool: skipped, no npm on this machine (install Node.js 20+ to run it)"
    exit 0
  fi
  if [ ! -s "$pin_dir/$file" ] || ! cmp -s "$pin/package-lock.json" "$pin_dir/package-lock.json"; then
    echo "$tool: installing $package $pin_version into $pin_dir"
    rm -rf "$pin_dir" && mkdir -p "$pin_dir"
    cp "$pin/package.json" "$pin/package-lock.json" "$pin_dir/"
    (cd "$pin_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
