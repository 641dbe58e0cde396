#!/usr/bin/env bash
# Installs a released wpc for this runner (input `install: release`):
# downloads SHA256SUMS, its signature and the archive for the runner's OS and
# architecture, verifies the signature against the release DID pinned in
# action.yml and the archive against SHA256SUMS, caches the binary in the
# tool cache and writes its path to the file named by $1.
#
# Trust: the download location (install-url, a mirror, the network) is not
# trusted; only the pinned DID is. The signature is checked with openssl, not
# with a wpc binary, since the binary is what is being verified. Nothing is
# put on PATH or in the tool cache unless every check passed.
#
# Inputs: WPC_VERSION (default: this action's Cargo.toml version),
# WPC_INSTALL_URL ("{version}" is replaced), WPC_RELEASE_DID; RUNNER_OS,
# RUNNER_ARCH and RUNNER_TOOL_CACHE as GitHub sets them.
set -euo pipefail

action_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
path_file="$1"

fail() {
    echo "::error title=wpc install::$*"
    exit 2
}

# --- what to fetch -----------------------------------------------------------
version="${WPC_VERSION:-}"
if [[ -z "$version" ]]; then
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)"
fi
version="${version#v}"
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
    fail "'$version' is not a wpc version (input version, e.g. 0.1.0)"
fi

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os/$arch" in
    Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
    Windows/X64) target=x86_64-pc-windows-msvc ;;
    *) fail "no wpc release for $os/$arch; use install: build" ;;
esac
if [[ "$target" == *windows* ]]; then ext=zip exe=.exe; else ext=tar.gz exe=; fi
stem="wpc-$version-$target"
archive="$stem.$ext"

release_did="${WPC_RELEASE_DID:-}"
if [[ ! "$release_did" =~ ^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$ ]]; then
    fail "no release DID to verify against (WPC_RELEASE_DID)"
fi

cache="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}/wpc/$version/$target"
if [[ -f "$cache.complete" && -x "$cache/wpc$exe" ]]; then
    echo "wpc $version from the tool cache ($cache)"
    printf '%s\n' "$cache/wpc$exe" >"$path_file"
    exit 0
fi

# openssl 3 verifies Ed25519; macOS's own LibreSSL may not, Homebrew's does.
openssl=
for candidate in openssl /opt/homebrew/opt/openssl@3/bin/openssl /usr/local/opt/openssl@3/bin/openssl; do
    if "$candidate" version 2>/dev/null | grep -q '^OpenSSL [3-9]'; then
        openssl="$candidate"
        break
    fi
done
[[ -n "$openssl" ]] || fail "OpenSSL 3 is needed to verify the release signature; use install: build"

default_url='https://github.com/wpc-dev/wpc/releases/download/v{version}'
base="${WPC_INSTALL_URL:-$default_url}"
base="${base//'{version}'/$version}"
base="${base%/}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- download ----------------------------------------------------------------
download() { # name, size limit in bytes
    local status=0
    curl --globoff --fail --silent --show-error --location --retry 2 --connect-timeout 10 --max-time 300 \
        --max-filesize "$2" --output "$work/$1" "$base/$1" 2>"$work/curl.err" || status=$?
    if [[ "$status" != 0 ]]; then
        fail "cannot download $base/$1: $(tr '\n' ' ' <"$work/curl.err")"
    fi
}
download SHA256SUMS 65536
download SHA256SUMS.sig.json 65536
download "$archive" 104857600

# --- the signature of SHA256SUMS ---------------------------------------------
sha256_b64u() { "$openssl" dgst -sha256 -binary | "$openssl" base64 -A | tr '+/' '-_' | tr -d '='; }
sha256_hex() { "$openssl" dgst -sha256 -r "$1" | cut -c1-64; }

field() { # the string value of a top-level field of the envelope, if simple
    { grep -oE "\"$1\"[[:space:]]*:[[:space:]]*\"[A-Za-z0-9_:.-]*\"" "$work/SHA256SUMS.sig.json" || true; } |
        sed -E 's/.*"([^"]*)"$/\1/'
}
# Ed25519 public key of a did:key (base58btc of 0xed01 + 32 bytes), as hex.
did_key_hex() {
    local s="${1#did:key:z}" alphabet=123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz
    local -a bytes=()
    local i j c digit carry prefix
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        prefix="${alphabet%%"$c"*}"
        digit=${#prefix}
        carry=$digit
        for ((j = ${#bytes[@]} - 1; j >= 0; j--)); do
            carry=$((bytes[j] * 58 + carry))
            bytes[j]=$((carry % 256))
            carry=$((carry / 256))
        done
        while ((carry > 0)); do
            bytes=("$((carry % 256))" "${bytes[@]}")
            carry=$((carry / 256))
        done
    done
    printf '%02x' "${bytes[@]}"
}
hex_to_file() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")" >"$2"; }

[[ "$(field envelope_type)" == artifact_digest ]] ||
    fail "SHA256SUMS.sig.json is not an artifact_digest envelope"
signer="$(field signer_did)"
[[ "$signer" == "$release_did" ]] ||
    fail "SHA256SUMS is signed by '$signer', not by the release key $release_did"
# The payload is rebuilt, never read from the envelope (docs/signing.md).
sums_sha256="$(sha256_hex "$work/SHA256SUMS")"
payload_hash="$(printf '{"artifact":"SHA256SUMS","sha256":"%s"}' "$sums_sha256" | sha256_b64u)"
[[ "$(field payload_hash_b64u)" == "$payload_hash" ]] ||
    fail "SHA256SUMS does not match the digest its signature vouches for"
signature="$(field signature_b64u | tr '_-' '/+')"
[[ ${#signature} == 86 ]] || fail "SHA256SUMS.sig.json has no Ed25519 signature"
printf '%s==' "$signature" | "$openssl" base64 -d -A >"$work/sig"
key_hex="$(did_key_hex "$release_did")"
[[ "$key_hex" =~ ^ed01[0-9a-f]{64}$ ]] || fail "$release_did is not an Ed25519 did:key"
hex_to_file "302a300506032b6570032100${key_hex#ed01}" "$work/key.der"
printf '%s' "$payload_hash" >"$work/message"
"$openssl" pkeyutl -verify -pubin -inkey "$work/key.der" -keyform DER -rawin \
    -in "$work/message" -sigfile "$work/sig" >/dev/null 2>&1 ||
    fail "the signature of SHA256SUMS does not verify under the release key $release_did"

# --- the archive -------------------------------------------------------------
expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "SHA256SUMS lists no (or more than one) $archive"
actual="$(sha256_hex "$work/$archive")"
[[ "$actual" == "$expected" ]] ||
    fail "$archive does not match SHA256SUMS (SHA-256 $actual, expected $expected)"

mkdir "$work/x"
if [[ "$ext" == zip ]]; then
    unzip -q "$work/$archive" -d "$work/x" || 7z x -bd -o"$work/x" "$work/$archive" >/dev/null ||
        fail "cannot unpack $archive"
else
    tar -xzf "$work/$archive" -C "$work/x" || fail "cannot unpack $archive"
fi
binary="$work/x/$stem/wpc$exe"
[[ -f "$binary" && ! -L "$binary" ]] || fail "$archive has no $stem/wpc$exe"
chmod +x "$binary"
reported="$("$binary" --version 2>/dev/null || true)"
[[ "$reported" == "wpc $version" ]] || fail "$archive holds '$reported', not wpc $version"

# --- cache -------------------------------------------------------------------
mkdir -p "$(dirname "$cache")"
rm -rf "$cache" "$cache.complete"
mkdir "$work/cache"
mv "$binary" "$work/cache/wpc$exe"
mv "$work/cache" "$cache"
touch "$cache.complete"
echo "wpc $version installed from $base/$archive (signed by $release_did)"
printf '%s\n' "$cache/wpc$exe" >"$path_file"
