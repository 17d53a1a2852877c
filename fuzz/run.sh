#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds fuzz_input.c with libFuzzer + ASan + UBSan
# (clang) against the responder's sources (all but main.c and guildctl.c)
# and runs it for SECONDS (default 60). A crash leaves crash-* in fuzz/out/
# and a non-zero exit. Not part of `scripts/stack test` (time-boxed fuzzing
# belongs in a nightly job); run it after touching the request layer.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}
command -v clang >/dev/null || { apt-get update -qq && apt-get install -y -qq clang >/dev/null; }
mkdir -p out corpus
PKGS="fcgi libmariadb hiredis json-c libjwt libxcrypt libcrypto"
mapfile -t SRCS < <(ls ../src/*.c ../src/handlers/*.c | grep -v -e '/main\.c$' -e '/guildctl\.c$')
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DPACKAGE_VERSION='"fuzz"' -I../src $(pkg-config --cflags $PKGS) \
    fuzz_input.c "${SRCS[@]}" $(pkg-config --libs $PKGS) -lm -o out/fuzz_input
./out/fuzz_input -max_total_time="$SECS" -max_len=4096 -artifact_prefix=out/ corpus
