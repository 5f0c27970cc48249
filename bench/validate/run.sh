#!/bin/bash
# Validation benchmark (see README.md): generates worst-case topology files and times `vnet validate` on each.
#   bench/validate/run.sh [--runs 3] [--limit-mib 4] [--results bench/validate/results.md]
# Uses the native vnet (bench/out/vnet/vnet, published by bench/run.sh, or $VNET). Needs no root: validate
# only reads the file. Needs GNU time (/usr/bin/time) for the peak memory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=3 limit=4 results="$here/results.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --limit-mib) limit=$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 1 ;;
    esac
done
vnet=${VNET:-$here/../out/vnet/vnet}
if [ ! -x "$vnet" ]; then
    echo "run.sh: publishing vnet (native AOT) to $here/../out/vnet" >&2
    dotnet publish "$here/../../src/VNetCompose.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$here/../out/vnet" -nologo -v quiet >&2
fi
[ -x /usr/bin/time ] || { echo "run.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/generate.py" --limit-mib "$limit" "$work" > "$work/cases.tsv"

{
    echo "# Validation benchmark"
    echo
    echo "\`bench/validate/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r); $runs runs each, medians;"
    echo "CPU = user + system seconds (the machine may be shared: wall time includes waiting for a CPU)."
    echo
    echo "| file | size | what | exit | wall s | CPU s | peak RSS MB | diagnostics printed |"
    echo "|---|---|---|---|---|---|---|---|"
} > "$results"
while IFS=$'\t' read -r name bytes what; do
    file="$work/$name.yaml"
    walls=() cpus=() rss=0 exit=0 printed=0
    for _ in $(seq "$runs"); do
        set +e
        /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$vnet" validate "$file" >/dev/null 2>"$work/err"
        exit=$?
        set -e
        read -r wall user sys kb < <(tail -n 1 "$work/time")  # GNU time puts "Command exited ..." first
        walls+=("$wall")
        cpus+=("$(printf '%.2f' "$(echo "$user + $sys" | bc)")")
        [ "$kb" -gt "$rss" ] && rss=$kb
        printed=$(wc -l < "$work/err")
    done
    median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    printf '| %s | %.1f MiB | %s | %s | %s | %s | %d | %s |\n' "$name" "$(echo "$bytes / 1048576" | bc -l)" "$what" "$exit" \
        "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "$((rss / 1024))" "$printed" >> "$results"
    echo "run.sh: $name done" >&2
done < "$work/cases.tsv"
cat "$results"
