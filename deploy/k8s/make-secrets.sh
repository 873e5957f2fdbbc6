#!/bin/sh
# Writes the Secrets' sources of a kustomize overlay from its *.example templates: every
# CHANGE_ME in secrets/*.env.example becomes its own random value (32 bytes, hex), and each
# secrets/alertmanager/* file gets the placeholder "not-configured" (put your real PagerDuty,
# Slack and SMTP keys there). Existing files are kept, so it is safe to run again.
set -eu

usage() {
  cat <<'TEXT'
Usage: deploy/k8s/make-secrets.sh OVERLAY_DIR

Writes OVERLAY_DIR/secrets/*.env (random values for every CHANGE_ME of the matching
*.env.example) and OVERLAY_DIR/secrets/alertmanager/* (placeholders) if they do not exist yet.
Git ignores what it writes. Example:
  deploy/k8s/make-secrets.sh deploy/k8s/overlays/dev && kubectl apply -k deploy/k8s/overlays/dev
TEXT
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  '') echo "make-secrets: give the overlay directory (see --help)" >&2; exit 2 ;;
esac
dir="$1/secrets"
[ -d "$dir" ] || { echo "make-secrets: $dir is not a directory" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || { echo "make-secrets: needs openssl on PATH" >&2; exit 1; }
umask 077

for example in "$dir"/*.env.example; do
  target="${example%.example}"
  if [ -e "$target" ]; then echo "kept    $target"; continue; fi
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      *CHANGE_ME*) printf '%s\n' "$(printf '%s' "$line" | sed "s/CHANGE_ME/$(openssl rand -hex 32)/")" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$example" > "$target"
  echo "wrote   $target"
done

for example in "$dir"/alertmanager/*.example; do
  target="${example%.example}"
  if [ -e "$target" ]; then echo "kept    $target"; continue; fi
  printf 'not-configured' > "$target"
  echo "wrote   $target (placeholder: put the real key there)"
done
