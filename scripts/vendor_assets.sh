#!/usr/bin/env bash
# Re-fetch the third-party browser files that the built site serves itself,
# at exactly the pinned versions, with `npm pack` (the npm registry only).
#
# The results are committed, so a learner's build needs only pip. Run this
# after changing a version below, then rebuild the book and run the tests.
#
#   bash scripts/vendor_assets.sh          # rewrite assets/vendor and tests/vendor
#   bash scripts/vendor_assets.sh --check  # fail if the committed files differ
set -euo pipefail
cd "$(dirname "$0")/.."

# name@version, then the SHA-256 of the tarball that `npm pack` downloads.
PACKAGES=(
    "requirejs@2.3.8 777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec"
    "@jupyter-widgets/html-manager@1.0.15 2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638"
    "mathjax@3.2.2 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
    "plotly.js-basic-dist-min@4.1.1 ea907f854b6cec4f6a2fa71540ec019a21ed2c61e6a109ddd5c072103a96eed0"
    "axe-core@4.14.1 e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"
)

check_only=false
if [[ "${1:-}" == "--check" ]]; then
    check_only=true
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--check]" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/out"

# Download, verify and unpack one package; print the unpacked folder.
fetch() {
    local spec="$1" expected="$2" tarball actual
    tarball="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
    actual="$(sha256sum "$work/$tarball" | cut -d' ' -f1)"
    if [[ "$actual" != "$expected" ]]; then
        echo "checksum mismatch for $spec: expected $expected, got $actual" >&2
        exit 1
    fi
    mkdir -p "$work/${tarball%.tgz}"
    tar -xzf "$work/$tarball" -C "$work/${tarball%.tgz}"
    echo "$work/${tarball%.tgz}/package"
}

# Copy files from an unpacked package, keeping their paths below it.
copy() {
    local source="$1" target="$2"
    shift 2
    mkdir -p "$target"
    (cd "$source" && cp --parents -r "$@" "$target/")
}

for entry in "${PACKAGES[@]}"; do
    read -r spec sum <<<"$entry"
    package="$(fetch "$spec" "$sum")"
    case "$spec" in
        requirejs@*)
            # The MIT licence notice is the header of require.js.
            copy "$package" "$out/assets/vendor/requirejs" require.js package.json
            ;;
        @jupyter-widgets/html-manager@*)
            # embed-amd.js inlines its CSS. Of the Font Awesome files it refers
            # to, browsers use the woff2 ones and fall back to woff, so the
            # eot, ttf and svg copies (2.5 MB) are left out.
            (cd "$package/dist" && copy . "$out/assets/vendor/html-manager" \
                embed-amd.js embed.js.LICENSE.txt ./*.woff2 ./*.woff)
            cp "$package/package.json" "$out/assets/vendor/html-manager/"
            ;;
        mathjax@*)
            # The combined TeX component, the extensions its autoload loads on
            # demand and the CHTML fonts. The speech and explorer components
            # (4 MB) load only when a reader turns them on in MathJax's menu.
            (cd "$package/es5" && copy . "$out/assets/vendor/mathjax" \
                tex-mml-chtml.js input/tex/extensions output/chtml/fonts/woff-v2)
            cp "$package/LICENSE" "$package/package.json" "$out/assets/vendor/mathjax/"
            ;;
        plotly.js-basic-dist-min@*)
            copy "$package" "$out/assets/vendor/plotly" \
                plotly-basic.min.js LICENSE package.json
            ;;
        axe-core@*)
            # Test-only: the accessibility checks inject it into each page.
            copy "$package" "$out/tests/vendor/axe-core" \
                axe.min.js LICENSE LICENSE-3RD-PARTY.txt package.json
            ;;
    esac
done

if $check_only; then
    status=0
    for folder in assets/vendor tests/vendor; do
        # The README of assets/vendor is written by hand.
        diff -r --exclude=README.md "$out/$folder" "$folder" || status=1
    done
    if [[ $status -ne 0 ]]; then
        echo "vendored files differ from the pinned packages: run $0" >&2
    fi
    exit $status
fi

for folder in assets/vendor tests/vendor; do
    find "$folder" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} + 2>/dev/null || true
    mkdir -p "$folder"
    cp -r "$out/$folder/." "$folder/"
done
echo "vendored into assets/vendor and tests/vendor"
