#!/usr/bin/env bash
# make images: an OCI image per binary, built with buildah FROM scratch
# (deploy/images/Containerfile): the static binary, the CA bundle, tzdata,
# a numeric non-root user (65532); OCI labels; at most 40 MB each. The
# same commit gives the same digest: every time in the image is the
# commit's (SOURCE_DATE_EPOCH, buildah bud --timestamp), every mode is set
# here, and the binaries are built with -trimpath.
#
#   scripts/images.sh [NAME...]            build the working tree's binaries (default: all), tagged
#                                          localhost/onboarding/NAME:VERSION (git describe) and :dev
#   scripts/images.sh check [NAME...]      build HEAD twice more, from clones at two other paths, and fail
#                                          unless both give the same digests (and, with a clean working
#                                          tree, the same as the tagged images)
#   scripts/images.sh at COMMIT [NAME...]  build the binaries of a past commit (the released worker of
#                                          the deploy test), tagged localhost/onboarding/NAME:COMMIT (12 digits)
#
# It installs buildah, podman and runc (Debian packages) when missing and
# run as root, and runs them with deploy/podman/containers.conf.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ALL=(worker webhook portal starter codecserver devidp)
REPO=${IMAGE_REPO:-localhost/onboarding}
SOURCE=https://github.com/cloudpartners/onboarding
USER_ID=65532
MAX_BYTES=$((40 * 1000 * 1000))
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}

log() { printf 'images: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# need_tools: buildah and podman, and the host files the images carry.
need_tools() {
  local missing=()
  for t in buildah podman runc; do command -v "$t" >/dev/null || missing+=("$t"); done
  [ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  [ -f /usr/share/zoneinfo/Europe/Berlin ] || missing+=(tzdata)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "needs ${missing[*]}: run 'sudo apt-get install buildah podman runc ca-certificates tzdata'"
  log "installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman runc ca-certificates tzdata >/dev/null
}

# names NAME...: the names given, checked, or all.
names() {
  [ $# -gt 0 ] || set -- "${ALL[@]}"
  for n in "$@"; do
    [[ " ${ALL[*]} " == *" $n "* ]] || die "no binary named $n (${ALL[*]})"
  done
  echo "$@"
}

# build SRC VERSION TAG... -- NAME...: build the binaries of the tree at SRC
# and an image of each, tagged REPO/NAME:TAG for every TAG; prints
# "NAME DIGEST" per image.
build() {
  local src=$1 version=$2; shift 2
  local tags=()
  while [ "$1" != -- ]; do tags+=("$1"); shift; done
  shift
  local revision epoch created work
  revision=$(git -C "$src" rev-parse HEAD)
  epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct HEAD)}
  created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
  work=$(mktemp -d "$TMP/build-XXXXXX")

  # Static, and nothing in it but the source: no paths of this machine
  # (-trimpath), no VCS stamp (a git worktree, a clone and an exported tree
  # of the same commit would differ; the image's labels name the commit).
  (cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH:-$(go env GOARCH)} \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$work/bin/" "${@/#/./}")
  for name in "$@"; do
    local ctx=$work/$name r=$work/$name/rootfs
    mkdir -p "$r/etc/ssl/certs" "$r/usr/share" "$r/usr/local/bin" "$r/tmp"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/nonexistent:/sbin/nologin\n' "$USER_ID" "$USER_ID" >"$r/etc/passwd"
    printf 'root:x:0:\nnonroot:x:%s:\n' "$USER_ID" >"$r/etc/group"
    cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
    cp -a /usr/share/zoneinfo "$r/usr/share/"
    cp "$work/bin/$name" "$r/usr/local/bin/$name"
    # Modes and times of our own, not the umask's or the host's: the layer
    # is then the same bytes on every build of the commit.
    find "$r" -type d -exec chmod 0755 {} +
    find "$r" -type f -exec chmod 0644 {} +
    chmod 0755 "$r/usr/local/bin/$name"
    chmod 1777 "$r/tmp" # for an emptyDir mounted there; nothing writes to it today
    find "$r" -exec touch -h -d "@$epoch" {} +
    sed "s/@NAME@/$name/g" deploy/images/Containerfile >"$ctx/Containerfile"
    local tagargs=()
    for t in "${tags[@]}"; do tagargs+=(--tag "$REPO/$name:$t"); done
    buildah bud --quiet --layers=false --timestamp "$epoch" \
      --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
      --build-arg "CREATED=$created" --build-arg "SOURCE=$SOURCE" \
      "${tagargs[@]}" --file "$ctx/Containerfile" "$ctx" >/dev/null
    local ref=$REPO/$name:${tags[0]} size
    size=$(podman image inspect --format '{{.Size}}' "$ref")
    [ "$size" -le "$MAX_BYTES" ] || die "$ref is $size bytes: an image may be at most 40 MB"
    echo "$name $(podman image inspect --format '{{.Digest}}' "$ref")"
  done
}

# clone COMMIT DIR: a checkout of COMMIT in DIR, sharing this clone's objects.
clone() {
  git clone --quiet --shared --no-checkout "$ROOT" "$2"
  git -C "$2" checkout --quiet --detach "$1"
}

# table TAG NAME...: name, size and digest of each image REPO/NAME:TAG.
table() {
  local tag=$1 size digest; shift
  printf '%-48s %8s  %s\n' IMAGE SIZE DIGEST
  for name in "$@"; do
    read -r size digest < <(podman image inspect --format '{{.Size}} {{.Digest}}' "$REPO/$name:$tag")
    printf '%-48s %7.1fM  %s\n' "$REPO/$name:$tag" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$digest"
  done
}

# untag NAME TAG: remove a tag, and the image with it when no other tag names it.
untag() {
  local id; id=$(podman image inspect --format '{{.ID}}' "$REPO/$1:$2")
  podman untag "$id" "$REPO/$1:$2"
  [ -n "$(podman image inspect --format '{{range .RepoTags}}{{.}} {{end}}' "$id")" ] || podman rmi "$id" >/dev/null
}

need_tools
started=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/onboarding-images-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
case ${1:-} in
  check)
    shift
    read -ra names <<<"$(names "$@")"
    head=$(git rev-parse HEAD)
    clone "$head" "$TMP/one"
    clone "$head" "$TMP/other/path" # another path: -trimpath keeps it out of the binary
    version=$(git -C "$TMP/one" describe --tags --always)
    log "building ${names[*]} at $head twice, from $TMP/one and $TMP/other/path"
    first=$(build "$TMP/one" "$version" check-1 -- "${names[@]}")
    second=$(build "$TMP/other/path" "$version" check-2 -- "${names[@]}")
    for name in "${names[@]}"; do untag "$name" check-1; untag "$name" check-2; done
    [ "$first" = "$second" ] || { log "two builds of $head differ:"; diff <(echo "$first") <(echo "$second") >&2; exit 1; }
    printf '%-12s %s\n' IMAGE "DIGEST (both builds of $head)"
    printf '%-12s %s\n' $first
    if [ -n "$(git status --porcelain)" ]; then
      log "the working tree has changes: the images tagged dev are not compared with HEAD's"
    else
      while read -r name digest; do
        dev=$(podman image inspect --format '{{.Digest}}' "$REPO/$name:dev" 2>/dev/null || echo none)
        [ "$dev" = "$digest" ] || die "$REPO/$name:dev is $dev, not HEAD's $digest (built from another commit? run make images)"
      done <<<"$first"
      log "the images tagged dev are HEAD's, digest for digest"
    fi
    log "the same commit gives the same digests ($((SECONDS - started))s)"
    ;;
  at)
    shift
    commit=$(git rev-parse --verify "${1:?usage: scripts/images.sh at COMMIT [NAME...]}^{commit}")
    shift
    read -ra names <<<"$(names "$@")"
    clone "$commit" "$TMP/src"
    log "building ${names[*]} at $commit"
    build "$TMP/src" "$(git -C "$TMP/src" describe --tags --always)" "${commit:0:12}" -- "${names[@]}" >/dev/null
    table "${commit:0:12}" "${names[@]}"
    log "built in $((SECONDS - started))s"
    ;;
  *)
    read -ra names <<<"$(names "$@")"
    version=$(git describe --tags --always --dirty)
    log "building ${names[*]} at $version"
    build "$ROOT" "$version" "$version" dev -- "${names[@]}" >/dev/null
    table dev "${names[@]}"
    log "tagged :$version and :dev"
    log "built in $((SECONDS - started))s"
    ;;
esac
